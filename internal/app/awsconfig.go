//go:build !oidc_no_dynamodb || !oidc_no_kms

package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
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
