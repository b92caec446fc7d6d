// Package signer is the table of signer backends: signer.type names one of
// them. A new backend is a package with a config struct and an opener (see
// internal/backend), and one line here (and one in internal/store/lambdastore and internal/signer/lambdasigner).
package signer

import (
	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/backend/awsdefault"
	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/internal/signer/local"
)

// Backends maps each signer type to its opener, AWS clients configured by
// the SDK's default chain (the Lambda functions use lambdasigner.Backends).
var Backends = map[string]backend.SignerOpener{
	"local": local.Open,
	"kms":   kms.Opener(awsdefault.Config),
	// kms-datakey: keys wrapped under a KMS key in DynamoDB, unwrapped
	// once per container; no KMS call per token (docs/kms.md).
	"kms-datakey": datakey.Opener(awsdefault.Config),
}
