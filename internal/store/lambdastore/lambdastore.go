// Package lambdastore is store.Backends for the Lambda functions: the same
// storage types (the keys MUST be equal; a test checks), their AWS clients
// configured from the environment Lambda gives every function
// (awssdk.FromEnvironment: region, the role's credentials) instead of the
// SDK's default chain (awsdefault.Config). A function's binary then links
// neither the SDK's shared-config loader nor its credential providers
// (STS, SSO, SSO OIDC, sign-in, IMDS), about 2 MiB of each bootstrap, and
// runs none of their package initialisation at cold start. The table is a
// package of its own because Go initialises every package-level map of
// every package a binary imports: beside store.Backends it would link the
// default chain again, and beside the signer table it would link storage
// into the jwks function.
package lambdastore

import (
	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/internal/store/memory"
)

// Backends maps each storage type to its opener.
var Backends = map[string]backend.StorageOpener{
	"memory":   memory.Open,
	"dynamodb": dynamodb.Opener(awssdk.FromEnvironment),
}
