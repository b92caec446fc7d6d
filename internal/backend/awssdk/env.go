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
// AWS_ENDPOINT_URL_<SERVICE> (sam local, emulators; empty means not set).
// Without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the credentials come
// from a container credentials endpoint when
// AWS_CONTAINER_CREDENTIALS_FULL_URI names one (with
// AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE),
// as the SDK's default chain would take them: an execution environment
// that hands out credentials that way rather than in variables, or an
// emulator. It reads no shared config file and has no other credential
// source (STS, SSO, IMDS, process credentials): the functions link none of
// that (about 2 MiB of each bootstrap; the container provider alone adds
// little, as it shares the SDK's HTTP client) and run none of it at cold
// start. Missing credentials or region are an error that names the
// variables. Three attempts per call, as Config.
func FromEnvironment(_ context.Context, region string, observe ...CallObserver) (aws.Config, error) {
	return fromEnvironment(os.Getenv, region, observe...)
}

func fromEnvironment(getenv func(string) string, region string, observe ...CallObserver) (aws.Config, error) {
	if region == "" {
		region = cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	}
	if region == "" {
		return aws.Config{}, fmt.Errorf("aws config: no region: AWS_REGION is not set")
	}
	creds, err := environmentCredentials(getenv)
	if err != nil {
		return aws.Config{}, err
	}
	cfg := aws.Config{
		Region:           region,
		Credentials:      creds,
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

// environmentCredentials are the static credentials of AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else those of the container
// credentials endpoint AWS_CONTAINER_CREDENTIALS_FULL_URI.
func environmentCredentials(getenv func(string) string) (aws.CredentialsProvider, error) {
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	switch {
	case id != "" && secret != "":
		return credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")), nil
	case getenv(EnvContainerCredentialsFullURI) != "":
		return containerCredentials(getenv, getenv(EnvContainerCredentialsFullURI))
	}
	return nil, fmt.Errorf("aws config: no credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the function's role), nor %s", EnvContainerCredentialsFullURI)
}
