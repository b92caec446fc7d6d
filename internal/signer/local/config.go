package local

import (
	"cmp"
	"context"
	"fmt"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Config is signer.config for type local.
type Config struct {
	// Algorithm of the key: RS256 (default) or ES256. The config package
	// validates it (Config.SigningAlgorithm) and discovery advertises it.
	Algorithm string `yaml:"algorithm" config:"expand"`
	// KeyFile is a PEM private key; without it a key is generated at start.
	KeyFile string `yaml:"keyFile" config:"expand"`
}

var _ backend.SignerOpener = Open

// Open is the opener of signer type local: the key of keyFile, which must
// be of the configured algorithm, or a key generated for it.
//
// A generated key in Lambda is one instance's alone: tokens do not verify
// against other instances' keys, so Open warns there.
func Open(ctx context.Context, section config.Section, env backend.Env) (oidc.Signer, error) {
	var c Config
	if err := section.Decode(&c); err != nil {
		return nil, err
	}
	if c.KeyFile == "" {
		if env.Lambda {
			env.Logger.WarnContext(ctx, "oidc: the signing key is generated per Lambda instance: tokens do not verify against other instances' keys; set "+config.EnvKMSKeyIDs)
		}
		return Generate(c.Algorithm)
	}
	s, err := LoadPEM(c.KeyFile)
	if err != nil {
		return nil, err
	}
	if alg := cmp.Or(c.Algorithm, oidc.RS256); s.Algorithm() != alg {
		return nil, fmt.Errorf("local signer: %s holds an %s key, but signer.config.algorithm is %s (the algorithm discovery advertises)", c.KeyFile, s.Algorithm(), alg)
	}
	return s, nil
}
