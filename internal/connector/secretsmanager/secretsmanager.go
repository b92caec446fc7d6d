// Package secretsmanager reads connector secrets from AWS Secrets Manager
// (connector.SecretReader). Only the binaries that open connectors (the
// authorize and token functions, the local server) import it, so that
// the others link no Secrets Manager client.
package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// API is the one Secrets Manager call the reader makes.
type API interface {
	GetSecretValue(ctx context.Context, in *awssm.GetSecretValueInput, opts ...func(*awssm.Options)) (*awssm.GetSecretValueOutput, error)
}

var _ API = (*awssm.Client)(nil)

// Reader returns a reader whose client is configured by load
// (awssdk.FromEnvironment in the Lambda functions, awsdefault.Config
// elsewhere; AWS_ENDPOINT_URL_SECRETS_MANAGER overrides the endpoint) on
// first use: a config without secretsmanager: values costs nothing at
// cold start.
func Reader(load awssdk.Loader) connector.SecretReader {
	client := sync.OnceValues(func() (API, error) {
		cfg, err := load(context.Background(), "")
		if err != nil {
			return nil, err
		}
		return awssm.NewFromConfig(cfg), nil
	})
	return func(ctx context.Context, id string) (string, error) {
		c, err := client()
		if err != nil {
			return "", err
		}
		return NewReader(c)(ctx, id)
	}
}

// NewReader returns a reader that calls c: the current version
// (AWSCURRENT) of the secret's string.
func NewReader(c API) connector.SecretReader {
	return func(ctx context.Context, id string) (string, error) {
		out, err := c.GetSecretValue(ctx, &awssm.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			return "", classify(err)
		}
		if out.SecretString == nil {
			return "", errors.New("the secret has no string (a binary secret? store a string)")
		}
		return *out.SecretString, nil
	}
}

// permanent are the error codes of GetSecretValue that another try will
// not change: the secret or the permission is missing, or the request is
// wrong. Anything else (throttling, a timeout, a 5xx, the network) is
// oidc.ErrUnavailable: the function retries the build instead of serving
// a misconfiguration until Lambda replaces the instance.
var permanent = []string{"ResourceNotFoundException", "AccessDeniedException", "InvalidRequestException",
	"InvalidParameterException", "DecryptionFailure", "UnrecognizedClientException"}

func classify(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && slices.Contains(permanent, api.ErrorCode()) {
		return err
	}
	return fmt.Errorf("%w: %w", oidc.ErrUnavailable, err)
}
