package datakey_test

import (
	"slices"
	"testing"

	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestPS256: RS256, ES256 and PS256 keys together, wrapped under KMS
// (moto) in DynamoDB Local; PS256 signs locally (no KMS Sign, so moto's
// PSS salt does not matter here) with a 32-byte salt, which the contract
// checks. A second container reads the same PS256 key back from its item
// (the item's alg tells PS256 from RS256 for an RSA key).
func TestPS256(t *testing.T) {
	e := newEnv(t)
	all := func(o *datakey.Options) { o.Algorithms = []string{oidc.RS256, oidc.ES256, oidc.PS256} }
	first := e.signer(t, nil, all)
	oidctest.TestSigner(t, first, oidctest.WithAlgorithms(oidc.RS256, oidc.ES256, oidc.PS256))
	ps, err := first.SigningKey(t.Context(), oidc.PS256)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := first.SigningKey(t.Context(), oidc.RS256)
	if ps.KeyID == rs.KeyID {
		t.Fatal("the PS256 and RS256 keys are one key; want one per algorithm")
	}
	second := e.signer(t, nil, all)
	if got := sign(t, second, oidc.PS256); got.KeyID != ps.KeyID || got.Algorithm != oidc.PS256 {
		t.Errorf("second container signs PS256 with %s (%s); want the stored key %s", got.KeyID, got.Algorithm, ps.KeyID)
	}
	keys, _ := second.PublicKeys(t.Context())
	if i := slices.IndexFunc(keys, func(k oidc.PublicKey) bool { return k.KeyID == ps.KeyID }); i < 0 || keys[i].Algorithm != oidc.PS256 {
		t.Errorf("published keys %v lack the PS256 key %s", keys, ps.KeyID)
	}
}

func TestAlgorithmsIncludePS256(t *testing.T) {
	got := datakey.Algorithms(oidc.RS256, []string{oidc.RS256, oidc.PS256})
	if want := []string{oidc.RS256, oidc.ES256, oidc.PS256}; !slices.Equal(got, want) {
		t.Errorf("Algorithms = %v; want %v", got, want)
	}
}
