// Command discovery is the discovery Lambda function: the discovery documents (OpenID Connect Discovery 1.0, RFC 8414)
// and WebFinger issuer discovery (RFC 7033).
// It owns these routes, relative to the issuer's path (oidc.Routes,
// function oidc.FunctionDiscovery):
//
//   - GET /.well-known/openid-configuration
//   - OPTIONS /.well-known/openid-configuration
//   - GET /.well-known/oauth-authorization-server
//   - OPTIONS /.well-known/oauth-authorization-server
//   - GET /.well-known/webfinger
//
// Any other request is answered with a JSON 404. The function is a
// composition root only: app.NewFunction reads the settings (OIDC_CONFIG and
// the other variables of config.EnvVars) and builds this function's endpoint
// type once, at cold start, from the backend tables passed here; every
// invocation reuses it.
// It opens no backend: its binary links no AWS service client.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/lambdahttp"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func main() {
	fn := app.NewFunction(context.Background(), oidc.FunctionDiscovery,
		app.Backends{Metrics: os.Stdout}, os.Getenv, os.Stdout)
	lambda.Start(lambdahttp.Handler(fn.Handler, lambdahttp.WithLogger(fn.Logger), lambdahttp.WithObserver(fn.Metrics.Request)))
}
