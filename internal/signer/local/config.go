package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

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
	// KeysRotationPeriod, Dex's key, rotates generated keys this often
	// (see Rotating): 0, the default, never rotates. At least
	// MinRotationPeriod; not with KeyFile, whose key the process cannot
	// replace.
	KeysRotationPeriod time.Duration `yaml:"keysRotationPeriod" config:"zero"`
}

var (
	_ config.Validator     = Config{}
	_ backend.SignerOpener = Open
)

// Validate implements config.Validator.
func (c Config) Validate(report func(key, msg string)) {
	switch p := c.KeysRotationPeriod; {
	case p == 0:
	case c.KeyFile != "":
		report("keysRotationPeriod", "rotates generated keys only: remove it, or remove keyFile (the process cannot replace a key file's key)")
	case p < MinRotationPeriod:
		report("keysRotationPeriod", fmt.Sprintf("%s is too short: at least %s, the time relying parties may cache the JWKS", p, MinRotationPeriod))
	}
}

// ErrGeneratedInLambda is the error of Open in AWS Lambda without a keyFile
// and without extensions.allowInstanceState.
var ErrGeneratedInLambda = errors.New("signer type local: a generated key is refused in AWS Lambda, where each function and instance would sign with its own key that the jwks function does not publish: set " +
	config.EnvKMSKeyIDs + ", or signer.config.keyFile (or, for a demo, " + config.KeyAllowInstanceState + ": true)")

// Open is the opener of signer type local: the key of keyFile, which must
// be of the configured algorithm, or a key generated for it; with
// keysRotationPeriod, generated keys rotated by env.Now (see Rotating).
//
// A generated key in Lambda is one instance's alone: tokens do not verify
// against other instances' keys, so there Open fails with ErrGeneratedInLambda
// unless env.AllowInstanceState (extensions.allowInstanceState, for
// single-instance smoke tests) is set, and then it warns. A keyFile is the
// same key in every instance and opens anywhere.
func Open(ctx context.Context, section config.Section, env backend.Env) (oidc.Signer, error) {
	var c Config
	if err := section.Decode(&c); err != nil {
		return nil, err
	}
	if c.KeyFile == "" {
		if env.Lambda {
			if !env.AllowInstanceState {
				return nil, ErrGeneratedInLambda
			}
			env.Logger.WarnContext(ctx, "oidc: the signing key is generated per Lambda instance ("+config.KeyAllowInstanceState+" is set): tokens do not verify against other instances' keys; set "+config.EnvKMSKeyIDs)
		}
		if c.KeysRotationPeriod > 0 {
			now := env.Now
			if now == nil {
				now = time.Now
			}
			return NewRotating(c.Algorithm, c.KeysRotationPeriod, now)
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
