package awssdk

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// The container credentials variables (AWS SDKs and Tools Reference Guide,
// "Container credential provider"), read when AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY are not set.
const (
	EnvContainerCredentialsFullURI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	EnvContainerAuthorizationToken = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
	// EnvContainerAuthorizationTokenFile names a file holding the token; it
	// is read at every retrieval (the token may rotate) and wins over
	// EnvContainerAuthorizationToken.
	EnvContainerAuthorizationTokenFile = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
)

// containerHosts are the link-local addresses of the ECS and EKS
// credential endpoints, which an http:// endpoint may name beside a
// loopback address (as the SDK's default chain allows).
var containerHosts = []net.IP{
	net.ParseIP("169.254.170.2"),  // ECS
	net.ParseIP("169.254.170.23"), // EKS Pod Identity
	net.ParseIP("fd00:ec2::23"),   // EKS Pod Identity, IPv6
}

// containerCredentials is the SDK's container credentials provider for
// endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI), cached until five minutes
// before the credentials expire, as the SDK's default chain builds it. It
// makes no call: the first request that signs fetches the credentials.
//
// The endpoint receives the authorization token, so it must be https, or
// http to a loopback, ECS or EKS address given as an IP literal (the SDK
// also resolves host names and accepts those resolving there; resolving
// one here would be network I/O at cold start, so a name is refused).
func containerCredentials(getenv func(string) string, endpoint string) (aws.CredentialsProvider, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("aws config: %s is not an http(s) URL with a host", EnvContainerCredentialsFullURI)
	}
	if u.Scheme == "http" {
		ip := net.ParseIP(strings.Trim(u.Hostname(), "[]"))
		if ip == nil || !(ip.IsLoopback() || containerHostIP(ip)) {
			return nil, fmt.Errorf("aws config: %s: an http:// endpoint must be a loopback, ECS (169.254.170.2) or EKS (169.254.170.23, fd00:ec2::23) address, not %q; use https", EnvContainerCredentialsFullURI, u.Hostname())
		}
	}
	token, tokenFile := getenv(EnvContainerAuthorizationToken), getenv(EnvContainerAuthorizationTokenFile)
	p := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		o.AuthorizationToken = token
		if tokenFile != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return "", fmt.Errorf("aws config: %s: %w", EnvContainerAuthorizationTokenFile, err)
				}
				return strings.TrimSpace(string(b)), nil
			})
		}
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute }), nil
}

func containerHostIP(ip net.IP) bool {
	for _, h := range containerHosts {
		if ip.Equal(h) {
			return true
		}
	}
	return false
}
