// Package awssdk holds what the AWS backends (DynamoDB storage, KMS
// signers, Secrets Manager) share: how their clients' settings are loaded
// (a Loader: FromEnvironment here, for the Lambda functions; the SDK's
// default chain in package awsdefault, for the local server and tools),
// the call observer, and checking an endpoint override. It does not import
// the SDK's config package, so that a binary whose composition root does
// not name awsdefault links none of it.
package awssdk

import (
	"fmt"
	"net/url"
)

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
