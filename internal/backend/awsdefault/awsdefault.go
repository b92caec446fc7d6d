// Package awsdefault loads AWS client settings with the SDK's default
// chain (environment, shared config and credentials files, SSO, web
// identity, container and instance credentials): the awssdk.Loader of the
// local server and the tools, which run wherever a developer or a CI job
// has credentials. The Lambda functions use awssdk.FromEnvironment and do
// not import this package (it links the SDK's config package and every
// credential provider, about 2 MiB).
package awsdefault

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/serverless-oidc/op/internal/backend/awssdk"
)

var _ awssdk.Loader = Config

// Config loads the SDK's settings (region, credentials, and the
// AWS_ENDPOINT_URL_<SERVICE> overrides that sam local and emulators use);
// region, if not empty, replaces the configured one. It reads the
// environment and files only: credentials are fetched on first use, so a
// cold start makes no network call here. observe, if not nil, is told of
// every call of the clients built from the config (the functions' metrics).
func Config(ctx context.Context, region string, observe ...awssdk.CallObserver) (aws.Config, error) {
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
	for _, o := range observe {
		if o != nil {
			cfg.APIOptions = append(cfg.APIOptions, awssdk.Observe(o))
		}
	}
	return cfg, nil
}
