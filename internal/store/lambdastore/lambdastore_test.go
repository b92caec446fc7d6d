package lambdastore_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/signer/lambdasigner"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/internal/store/lambdastore"
)

// TestTablesMatch: the Lambda tables offer exactly the types of the
// default tables, so a configuration that opens locally opens in Lambda.
func TestTablesMatch(t *testing.T) {
	if got, want := slices.Sorted(maps.Keys(lambdastore.Backends)), slices.Sorted(maps.Keys(store.Backends)); !slices.Equal(got, want) {
		t.Errorf("lambdastore.Backends types %v; want store.Backends' %v", got, want)
	}
	if got, want := slices.Sorted(maps.Keys(lambdasigner.Backends)), slices.Sorted(maps.Keys(signer.Backends)); !slices.Equal(got, want) {
		t.Errorf("lambdasigner.Backends types %v; want signer.Backends' %v", got, want)
	}
}
