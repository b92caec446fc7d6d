package local

import (
	"cmp"
	"context"
	"crypto"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Config is signer.config for type local.
type Config struct {
	// Algorithm is Dex's key: the ID token algorithm, RS256 (default),
	// ES256 or PS256, for clients that name none (idTokenSigningAlg). The
	// config package validates it (Config.SigningAlgorithm) and discovery
	// advertises it.
	Algorithm string `yaml:"algorithm" config:"expand"`
	// KeyFiles are PEM private keys by JWS algorithm (RS256, PS256: RSA,
	// distinct keys; ES256: P-256), one per algorithm: instead of keyFile
	// and accessTokenKeyFile, and the only way to give a PS256 key.
	KeyFiles map[string]string `yaml:"keyFiles" config:"expand"`
	// KeyFile is a PEM private key of Algorithm; without it an RSA-2048 key
	// and a P-256 key are generated at start.
	KeyFile string `yaml:"keyFile" config:"expand"`
	// AccessTokenKeyFile is a PEM P-256 private key, the ES256 key that
	// signs access tokens (and the ID tokens of clients with ES256), beside
	// an RSA KeyFile. Without it, a KeyFile's key signs access tokens too.
	AccessTokenKeyFile string `yaml:"accessTokenKeyFile" config:"expand"`
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
	if len(c.KeyFiles) > 0 && (c.KeyFile != "" || c.AccessTokenKeyFile != "") {
		report("keyFiles", "replaces keyFile and accessTokenKeyFile: use one or the other")
	}
	if len(c.KeyFiles) > 0 && c.KeysRotationPeriod != 0 {
		report("keysRotationPeriod", "rotates generated keys only: remove it, or remove keyFiles")
	}
	for _, alg := range slices.Sorted(maps.Keys(c.KeyFiles)) {
		if !slices.Contains(oidc.SigningAlgorithms, alg) {
			report("keyFiles."+alg, "unknown algorithm (want "+strings.Join(oidc.SigningAlgorithms, ", ")+")")
		} else if c.KeyFiles[alg] == "" {
			report("keyFiles."+alg, "must name a file")
		}
	}
	switch {
	case c.AccessTokenKeyFile == "":
	case c.KeyFile == "":
		report("accessTokenKeyFile", "needs keyFile (without key files both keys are generated)")
	case c.Algorithm == oidc.ES256:
		report("accessTokenKeyFile", "keyFile already holds the ES256 key (algorithm: ES256): remove accessTokenKeyFile")
	}
}

// ErrGeneratedInLambda is the error of Open in AWS Lambda without a keyFile
// and without extensions.allowInstanceState.
var ErrGeneratedInLambda = errors.New("signer type local: a generated key is refused in AWS Lambda, where each function and instance would sign with its own key that the jwks function does not publish: set " +
	config.EnvKMSKeyIDs + ", or signer.config.keyFile (or, for a demo, " + config.KeyAllowInstanceState + ": true)")

// Open is the opener of signer type local: the key of keyFile, which must
// be of the configured algorithm, and the ES256 key of accessTokenKeyFile;
// or an RSA key and a P-256 key generated at start; with
// keysRotationPeriod, generated keys rotated by env.Now (see Rotating).
// The signer MUST have a key for each of env.IDTokenAlgorithms.
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
	if len(c.KeyFiles) > 0 {
		return openKeyFiles(ctx, c, env)
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
			return NewRotating(generated(c, env), c.KeysRotationPeriod, now)
		}
		return Generate(generated(c, env)...)
	}
	key, err := loadKey(c.KeyFile)
	if err != nil {
		return nil, err
	}
	keys := []crypto.Signer{key}
	if c.AccessTokenKeyFile != "" {
		atKey, err := loadKey(c.AccessTokenKeyFile)
		if err != nil {
			return nil, err
		}
		keys = append(keys, atKey)
	}
	s, err := New(keys...)
	if err != nil {
		return nil, err
	}
	if alg := cmp.Or(c.Algorithm, oidc.RS256); algorithmOf(key) != alg {
		return nil, fmt.Errorf("local signer: %s holds an %s key, but signer.config.algorithm is %s (the algorithm discovery advertises)", c.KeyFile, algorithmOf(key), alg)
	}
	if c.AccessTokenKeyFile != "" && algorithmOf(keys[1]) != oidc.ES256 {
		return nil, fmt.Errorf("local signer: %s holds an %s key; accessTokenKeyFile must hold a P-256 (ES256) key", c.AccessTokenKeyFile, algorithmOf(keys[1]))
	}
	return checkKeys(ctx, s, env)
}

// generated are the algorithms a generated key set holds: RS256 and ES256
// (DefaultAlgorithms), signer.config.algorithm, and every other algorithm
// the provider signs with.
func generated(c Config, env backend.Env) []string {
	var out []string
	for _, alg := range oidc.SigningAlgorithms {
		if slices.Contains(DefaultAlgorithms, alg) || slices.Contains(env.Algorithms(), alg) || alg == c.Algorithm {
			out = append(out, alg)
		}
	}
	return out
}

// openKeyFiles is Open with keyFiles: one PEM key per algorithm.
func openKeyFiles(ctx context.Context, c Config, env backend.Env) (oidc.Signer, error) {
	keys := map[string]crypto.Signer{}
	for alg, path := range c.KeyFiles {
		key, err := loadKey(path)
		if err != nil {
			return nil, err
		}
		keys[alg] = key
	}
	if _, ok := keys[cmp.Or(c.Algorithm, oidc.RS256)]; !ok {
		return nil, fmt.Errorf("local signer: keyFiles has no %s key, but signer.config.algorithm is %s (the algorithm discovery advertises)", cmp.Or(c.Algorithm, oidc.RS256), cmp.Or(c.Algorithm, oidc.RS256))
	}
	s, err := NewKeys(keys)
	if err != nil {
		return nil, err
	}
	return checkKeys(ctx, s, env)
}

// checkKeys refuses a signer without a key of each algorithm the provider
// signs with (env.Algorithms), and says which algorithm access tokens get
// without an ES256 key.
func checkKeys(ctx context.Context, s *Signer, env backend.Env) (oidc.Signer, error) {
	for _, alg := range env.Algorithms() {
		if _, err := s.SigningKey(ctx, alg); err != nil {
			return nil, fmt.Errorf("local signer: no %s key, but tokens may be %s (signer.config.algorithm, extensions.accessTokenSigningAlg or signingAlgs, a client's idTokenSigningAlg or userInfoSigningAlg, or RS256 for OpenID Connect Core §15.1): %w", alg, alg, err)
		}
	}
	if _, err := s.SigningKey(ctx, oidc.ES256); err != nil && env.Logger != nil {
		env.Logger.InfoContext(ctx, "oidc: the signer has no ES256 key: access tokens are signed with "+s.Algorithms()[0]+" (set signer.config.accessTokenKeyFile for ES256 access tokens)")
	}
	return s, nil
}

// algorithmOf is the JWS algorithm of a private key, "" if unsupported.
func algorithmOf(key crypto.Signer) string {
	pub, err := oidc.NewPublicKey(key.Public())
	if err != nil {
		return ""
	}
	return pub.Algorithm
}
