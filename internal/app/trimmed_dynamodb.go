//go:build oidc_no_dynamodb

package app

import (
	"context"
	"errors"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/store/memory"
)

// dynamoStore, in a function built without DynamoDB (see BuildTags), gives
// a process-local store that its routes never reach: they serve discovery
// or keys only.
func dynamoStore(_ context.Context, _ config.DynamoDBStorage, now func() time.Time) (tableStore, error) {
	return memory.New(now), nil
}

// UserStore is not available without DynamoDB.
func UserStore(context.Context, *config.Config) (UserWriter, error) {
	return nil, errors.New("this binary is built without DynamoDB")
}
