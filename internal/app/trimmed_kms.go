//go:build oidc_no_kms

package app

import (
	"context"
	"errors"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// signers, in a function built without KMS (see BuildTags), open type kms
// as a signer its routes never call: discovery advertises the algorithm
// from the config (Config.SigningAlgorithm) and signs nothing.
var signers = map[string]backend.SignerOpener{
	"local": local.Open,
	"kms": func(context.Context, config.Section, backend.Env) (oidc.Signer, error) {
		return absentSigner{}, nil
	},
}

var errNoKMS = errors.New("app: this function is built without KMS")

type absentSigner struct{}

func (absentSigner) SigningKey(context.Context) (oidc.PublicKey, error) {
	return oidc.PublicKey{}, errNoKMS
}
func (absentSigner) Sign(context.Context, string, []byte) ([]byte, error) { return nil, errNoKMS }
func (absentSigner) PublicKeys(context.Context) ([]oidc.PublicKey, error) { return nil, errNoKMS }
