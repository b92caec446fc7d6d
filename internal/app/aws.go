package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// awsConfig loads the SDK's settings (region, credentials, and the
// AWS_ENDPOINT_URL_<SERVICE> overrides that sam local and emulators use).
// It reads the environment and files only: credentials are fetched on first
// use, so a cold start makes no network call here.
func awsConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	// Three attempts keep retries within a Lambda request's deadline.
	opts = append(opts, awsconfig.WithRetryMaxAttempts(3))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return cfg, nil
}

// kmsSigner builds the KMS signer of signer.config (type kms).
func kmsSigner(ctx context.Context, c config.KMSSigner) (*kms.Signer, error) {
	awsCfg, err := awsConfig(ctx, c.Region)
	if err != nil {
		return nil, err
	}
	client := awskms.NewFromConfig(awsCfg, func(o *awskms.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	return kms.New(client, c.Keys)
}

// dynamoStore builds the DynamoDB store of storage.config (type dynamodb).
// createTable (local use only) creates the table if it is missing: the one
// network call New may make, and never in Lambda, where the table comes
// from the deployment.
func dynamoStore(ctx context.Context, c config.DynamoDBStorage, now func() time.Time) (*dynamodb.Store, error) {
	awsCfg, err := awsConfig(ctx, c.Region)
	if err != nil {
		return nil, err
	}
	client := awsdynamodb.NewFromConfig(awsCfg, func(o *awsdynamodb.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	if c.CreateTable {
		if err := dynamodb.CreateTable(ctx, client, c.Table); err != nil {
			return nil, err
		}
	}
	return dynamodb.New(client, c.Table, now), nil
}

// UserWriter is the password database a store keeps: what oidcctl manages.
type UserWriter interface {
	oidc.UserStore
	PutUser(ctx context.Context, u oidc.User) error
	DeleteUser(ctx context.Context, subject string) error
}

// UserStore opens the user table of cfg's storage (type dynamodb only: the
// memory store lives and dies with one process).
func UserStore(ctx context.Context, cfg *config.Config) (UserWriter, error) {
	if cfg.Storage.Type != "dynamodb" {
		return nil, fmt.Errorf("storage type %q keeps no users outside the process; use staticPasswords", cfg.Storage.Type)
	}
	return dynamoStore(ctx, cfg.Storage.DynamoDB, time.Now)
}
