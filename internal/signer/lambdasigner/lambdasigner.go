// Package lambdasigner is signer.Backends for the Lambda functions: the
// same signer types (the keys MUST be equal; a test checks), their AWS
// clients configured by awssdk.FromEnvironment instead of the SDK's
// default chain (see package lambdastore for why, and why a package).
package lambdasigner

import (
	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/internal/signer/local"
)

// Backends maps each signer type to its opener.
var Backends = map[string]backend.SignerOpener{
	"local":       local.Open,
	"kms":         kms.Opener(awssdk.FromEnvironment),
	"kms-datakey": datakey.Opener(awssdk.FromEnvironment),
}
