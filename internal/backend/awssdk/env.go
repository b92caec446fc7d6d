package awssdk

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Loader builds the settings of the AWS clients a backend makes; region,
// if not empty, replaces the configured one, and observe, if not nil, is
// told of every call of the clients built from the settings (the
// functions' metrics). A Loader reads the environment (and files) only:
// credentials are fetched on first use, so a cold start makes no network
// call. FromEnvironment (AWS Lambda) or awsdefault.Config (the SDK's
// default chain).
type Loader func(ctx context.Context, region string, observe ...CallObserver) (aws.Config, error)

var _ Loader = FromEnvironment

// FromEnvironment is the Loader of the Lambda functions: the region and
// the credentials come from the variables Lambda sets in every function
// (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN:
// the function role's session), endpoints from AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> (sam local, emulators). It reads no shared
// config file and has no credential chain (STS, SSO, IMDS, container or
// process credentials): in Lambda the SDK's default chain resolves the same
// environment credentials, so the functions link none of that (about
// 2 MiB of each bootstrap) and run none of it at cold start. Missing
// credentials or region are an error that names the variables. Three
// attempts per call, as Config.
func FromEnvironment(_ context.Context, region string, observe ...CallObserver) (aws.Config, error) {
	return fromEnvironment(os.Getenv, region, observe...)
}

func fromEnvironment(getenv func(string) string, region string, observe ...CallObserver) (aws.Config, error) {
	if region == "" {
		region = cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	switch {
	case region == "":
		return aws.Config{}, fmt.Errorf("aws config: no region: AWS_REGION is not set")
	case id == "" || secret == "":
		return aws.Config{}, fmt.Errorf("aws config: no credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the function's role)")
	}
	cfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
		RetryMaxAttempts: 3,
		ConfigSources:    []any{envEndpoints(getenv)},
	}
	if e := getenv("AWS_ENDPOINT_URL"); e != "" {
		cfg.BaseEndpoint = aws.String(e)
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

// envEndpoints answers the service clients' question for a service's
// own endpoint, AWS_ENDPOINT_URL_<SERVICE> (the SDK id in upper case,
// spaces as underscores: DYNAMODB, KMS, SECRETS_MANAGER), as the SDK's
// config.EnvConfig does.
type envEndpoints func(string) string

// GetServiceBaseEndpoint implements the clients' ServiceBaseEndpointProvider.
func (getenv envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}
