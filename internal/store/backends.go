// Package store is the table of storage backends: storage.type names one
// of them. A new backend is a package with a config struct and an opener
// (see internal/backend), and one line here (and one in internal/store/lambdastore and internal/signer/lambdasigner).
package store

import (
	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/backend/awsdefault"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/internal/store/memory"
)

// Backends maps each storage type to its opener, AWS clients configured
// by the SDK's default chain (the Lambda functions use lambdastore.Backends).
var Backends = map[string]backend.StorageOpener{
	"memory":   memory.Open,
	"dynamodb": dynamodb.Opener(awsdefault.Config),
}
