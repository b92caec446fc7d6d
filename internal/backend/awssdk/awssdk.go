// Package awssdk holds what the AWS backends (DynamoDB storage, KMS signer)
// share: loading the SDK's settings and checking an endpoint override.
package awssdk

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Config loads the SDK's settings (region, credentials, and the
// AWS_ENDPOINT_URL_<SERVICE> overrides that sam local and emulators use);
// region, if not empty, replaces the configured one. It reads the
// environment and files only: credentials are fetched on first use, so a
// cold start makes no network call here. observe, if not nil, is told of
// every call of the clients built from the config (the functions' metrics).
func Config(ctx context.Context, region string, observe ...CallObserver) (aws.Config, error) {
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
	if Tracing {
		cfg.APIOptions = append(cfg.APIOptions, traceOption)
	}
	for _, o := range observe {
		if o != nil {
			cfg.APIOptions = append(cfg.APIOptions, observeOption(o))
		}
	}
	return cfg, nil
}

// CheckEndpoint reports (as a config.Validator does) an endpoint override
// that is not empty and not an http(s) URL with a host.
func CheckEndpoint(report func(key, msg string), key, endpoint string) {
	if endpoint == "" {
		return
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		report(key, fmt.Sprintf("%q is not an http(s) URL like http://127.0.0.1:8000", endpoint))
	}
}
