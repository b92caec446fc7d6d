//go:build !oidc_no_dynamodb

package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
)

// dynamoStore builds the DynamoDB store of storage.config (type dynamodb).
// createTable (local use only) creates the table if it is missing: the one
// network call New may make, and never in Lambda, where the table comes
// from the deployment.
func dynamoStore(ctx context.Context, c config.DynamoDBStorage, now func() time.Time) (tableStore, error) {
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

// UserStore opens the user table of cfg's storage (type dynamodb only: the
// memory store lives and dies with one process).
func UserStore(ctx context.Context, cfg *config.Config) (UserWriter, error) {
	if cfg.Storage.Type != "dynamodb" {
		return nil, fmt.Errorf("storage type %q keeps no users outside the process; use staticPasswords", cfg.Storage.Type)
	}
	return dynamoStore(ctx, cfg.Storage.DynamoDB, time.Now)
}
