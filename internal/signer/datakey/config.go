package datakey

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Config is signer.config for type kms-datakey. Region and the endpoints
// default to the AWS SDK's own settings (AWS_REGION,
// AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_DYNAMODB).
type Config struct {
	// WrappingKey is the symmetric KMS key (KeySpec SYMMETRIC_DEFAULT,
	// KeyUsage ENCRYPT_DECRYPT) that wraps the private keys: a key id, ARN
	// or alias.
	WrappingKey string `yaml:"wrappingKey" config:"expand"`
	// MACKey is the KMS HMAC key (KeySpec HMAC_256, KeyUsage
	// GENERATE_VERIFY_MAC) that authenticates the key set: a key id, ARN
	// or alias. Required: without it, whoever can write the table could
	// add a trusted key.
	MACKey string `yaml:"macKey" config:"expand"`
	// Table is the DynamoDB table that holds the wrapped keys: the
	// provider's own table (storage.config.table).
	Table string `yaml:"table" config:"expand"`
	// Algorithm is the ID token algorithm, RS256 (default), ES256 or
	// PS256, as for the other signers. Keys are kept for it, for every
	// algorithm the provider signs with (clients' idTokenSigningAlg and
	// userInfoSigningAlg, RS256 for OpenID Connect Core §15.1), and for
	// ES256 (access tokens): one key per algorithm.
	Algorithm string `yaml:"algorithm" config:"expand"`
	// RotationPeriod is how long a key signs before a successor is made (by
	// the first signing call after it, once for the fleet); 0, the
	// default, never rotates by itself (Signer.Rotate does, for an
	// operator's tool).
	// At least MinRotationPeriod.
	RotationPeriod time.Duration `yaml:"rotationPeriod" config:"zero"`
	// VerificationOverlap is how long a retired key stays published after
	// its successor starts signing; 0, the default, is expiry.idTokens +
	// 5 minutes (RetireMargin), which is also the least it may be.
	VerificationOverlap time.Duration `yaml:"verificationOverlap" config:"zero"`

	Region           string `yaml:"region" config:"expand"`
	KMSEndpoint      string `yaml:"kmsEndpoint" config:"expand"`      // optional, for moto
	DynamoDBEndpoint string `yaml:"dynamodbEndpoint" config:"expand"` // optional, for DynamoDB Local
}

var (
	_ config.Validator = Config{}
)

var tableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// Validate implements config.Validator.
func (c Config) Validate(report func(key, msg string)) {
	if strings.TrimSpace(c.WrappingKey) == "" {
		report("wrappingKey", "required: the symmetric KMS key (id, ARN or alias) that wraps the signing keys")
	}
	if strings.TrimSpace(c.MACKey) == "" {
		report("macKey", "required: the HMAC_256 KMS key (id, ARN or alias) that authenticates the key set")
	}
	if c.VerificationOverlap < 0 {
		report("verificationOverlap", "must not be negative")
	}
	switch {
	case c.Table == "":
		report("table", "required: the DynamoDB table that holds the wrapped keys (storage.config.table)")
	case !tableName.MatchString(c.Table):
		report("table", fmt.Sprintf("%q is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)", c.Table))
	}
	if p := c.RotationPeriod; p != 0 && p < MinRotationPeriod {
		report("rotationPeriod", fmt.Sprintf("%s is too short: at least %s (a new key is published %s before it signs)", p, MinRotationPeriod, PublishLead))
	}
	awssdk.CheckEndpoint(report, "kmsEndpoint", c.KMSEndpoint)
	awssdk.CheckEndpoint(report, "dynamodbEndpoint", c.DynamoDBEndpoint)
}

// Opener returns the opener of signer type kms-datakey. It does no network I/O:
// the key set is read on first need (see New).
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
	kmsClient := awskms.NewFromConfig(awsCfg, func(o *awskms.Options) {
		if c.KMSEndpoint != "" {
			o.BaseEndpoint = aws.String(c.KMSEndpoint)
		}
	})
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if c.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(c.DynamoDBEndpoint)
		}
	})
	return New(Options{
		KMS: kmsClient, DynamoDB: db, Table: c.Table, WrappingKey: c.WrappingKey, MACKey: c.MACKey,
		Algorithms:     Algorithms(cmp.Or(c.Algorithm, oidc.RS256), env.Algorithms()),
		TokenLifetime:  env.TokenLifetime,
		RotationPeriod: c.RotationPeriod, VerificationOverlap: c.VerificationOverlap,
		SignOnly: env.SignOnly, OnRefused: env.OnSigningKeyRefused,
		Now:    env.Now,
		Logger: env.Logger,
	})
}

// Algorithms are the algorithms a deployment keeps keys for: the ID token
// algorithms (idTokenAlgorithms, or the signer's algorithm when none is
// given) and ES256, which signs access tokens; RS256 first.
func Algorithms(algorithm string, idTokenAlgorithms []string) []string {
	want := append([]string{algorithm, oidc.ES256}, idTokenAlgorithms...)
	var out []string
	for _, alg := range oidc.SigningAlgorithms {
		if slices.Contains(want, alg) {
			out = append(out, alg)
		}
	}
	return out
}
