package kms

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Config is signer.config for type kms. Region and endpoint default to the
// AWS SDK's own settings (AWS_REGION, AWS_ENDPOINT_URL_KMS).
type Config struct {
	// Keys are key ids, ARNs or aliases: the first RSA key signs RS256, the
	// first ECC_NIST_P256 key signs ES256 (access tokens), the first key
	// written PS256:<key> (another RSA key) signs PS256, the rest are
	// published for verification only.
	Keys []string `yaml:"keys" config:"expand"`
	// Algorithm is the ID token algorithm, RS256 (default: an
	// RSA_2048/3072/4096 key), ES256 (ECC_NIST_P256) or PS256 (a key
	// listed as PS256:<key>). The config package
	// validates it (Config.SigningAlgorithm) and discovery advertises it
	// without calling KMS; a key list without a key of it is refused at
	// signing time.
	Algorithm string `yaml:"algorithm" config:"expand"`
	Region    string `yaml:"region" config:"expand"`
	Endpoint  string `yaml:"endpoint" config:"expand"` // optional, for moto
}

var (
	_ config.Validator = Config{}
)

// Validate implements config.Validator.
func (c Config) Validate(report func(key, msg string)) {
	if len(c.Keys) == 0 {
		report("keys", "at least one KMS key id, ARN or alias is required (the first signs)")
	}
	for i, k := range c.Keys {
		_, id, err := ParseKey(k)
		switch {
		case err != nil:
			report(fmt.Sprintf("keys[%d]", i), strings.TrimPrefix(err.Error(), "kms signer: "))
		case strings.TrimSpace(id) == "":
			report(fmt.Sprintf("keys[%d]", i), "must not be empty")
		}
	}
	awssdk.CheckEndpoint(report, "endpoint", c.Endpoint)
}

// Opener returns the opener of signer type kms. It does no network I/O (see New).
// Its AWS clients are configured by load (awssdk.FromEnvironment in the
// Lambda functions, awsdefault.Config elsewhere).
func Opener(load awssdk.Loader) backend.SignerOpener {
	return func(ctx context.Context, section config.Section, env backend.Env) (oidc.Signer, error) {
		return open(ctx, section, env, load)
	}
}

func open(ctx context.Context, section config.Section, env backend.Env, load awssdk.Loader) (oidc.Signer, error) {
	var c Config
	if err := section.Decode(&c); err != nil {
		return nil, err
	}
	awsCfg, err := load(ctx, c.Region, env.ObserveAWSCall)
	if err != nil {
		return nil, err
	}
	client := awskms.NewFromConfig(awsCfg, func(o *awskms.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	required := env.Algorithms()
	if len(required) == 0 {
		required = []string{cmp.Or(c.Algorithm, oidc.RS256)}
	}
	s, err := New(client, c.Keys, required...)
	if err != nil {
		return nil, err
	}
	s.log = env.Logger
	return s, nil
}
