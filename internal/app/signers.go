//go:build !oidc_no_kms

package app

import "github.com/serverless-oidc/op/internal/signer"

// signers are the signer backends New opens from.
var signers = signer.Backends
