package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/config"
)

// Config is storage.config for type dynamodb. Region and endpoint default
// to the AWS SDK's own settings (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB).
type Config struct {
	Table       string `yaml:"table" config:"expand"`
	Region      string `yaml:"region" config:"expand"`
	Endpoint    string `yaml:"endpoint" config:"expand"` // optional, for DynamoDB Local
	CreateTable bool   `yaml:"createTable"`              // local use only: create the table if it is missing
}

var (
	_ config.Validator = Config{}
)

var tableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// Validate implements config.Validator.
func (c Config) Validate(report func(key, msg string)) {
	switch {
	case c.Table == "":
		report("table", "required for storage type dynamodb")
	case !tableName.MatchString(c.Table):
		report("table", fmt.Sprintf("%q is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)", c.Table))
	}
	awssdk.CheckEndpoint(report, "endpoint", c.Endpoint)
}

// Opener returns the opener of storage type dynamodb. It builds the SDK client
// without network I/O: the client connects on first use, so a cold start
// stays fast. createTable creates the table if it is missing: the one
// network call Open may make, and never in Lambda, where the table comes
// from the deployment.
// Its AWS clients are configured by load (awssdk.FromEnvironment in the
// Lambda functions, awsdefault.Config elsewhere).
func Opener(load awssdk.Loader) backend.StorageOpener {
	return func(ctx context.Context, section config.Section, env backend.Env) (backend.Storage, error) {
		return open(ctx, section, env, load)
	}
}

func open(ctx context.Context, section config.Section, env backend.Env, load awssdk.Loader) (backend.Storage, error) {
	var c Config
	if err := section.Decode(&c); err != nil {
		return nil, err
	}
	if c.CreateTable && env.Lambda {
		// A function that creates its table would make a network call at
		// every cold start, and needs dynamodb:CreateTable, which the
		// deployment rightly does not grant.
		return nil, errors.New("storage.config.createTable is for local use; in Lambda the table comes from the deployment")
	}
	awsCfg, err := load(ctx, c.Region, env.ObserveAWSCall)
	if err != nil {
		return nil, err
	}
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	if c.CreateTable {
		if err := CreateTable(ctx, client, c.Table); err != nil {
			return nil, err
		}
	}
	return New(client, c.Table, env.Now), nil
}
