// Command authorize is the authorize Lambda function: the authorization
// endpoint, the pages a browser posts to while signing in, RP-initiated
// logout, and the device flow's user page (RFC 8628).
// It owns these routes, relative to the issuer's path (oidc.Routes,
// function oidc.FunctionAuthorize):
//
//   - GET /authorize
//   - POST /authorize
//   - GET /login
//   - POST /login
//   - GET /callback
//   - GET /callback/{proxy+}
//   - POST /consent
//   - GET /logout
//   - POST /logout
//   - GET /device
//   - POST /device
//   - GET /static/{proxy+}
//   - HEAD /static/{proxy+}
//   - GET /theme/{proxy+}
//   - HEAD /theme/{proxy+}
//
// The last four serve the static files of frontend.dir, bundled into this
// function's zip beside config.yaml.
// Any other request is answered with a JSON 404. The function is a
// composition root only: app.NewFunction reads the settings (OIDC_CONFIG and
// the other variables of config.EnvVars) and builds this function's endpoint
// type once, at cold start, from the backend and connector tables passed
// here (reading connector secrets from AWS Secrets Manager then); every
// invocation reuses it.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/connector/secretsmanager"
	"github.com/serverless-oidc/op/internal/connectors"
	"github.com/serverless-oidc/op/internal/lambdahttp"
	"github.com/serverless-oidc/op/internal/signer/lambdasigner"
	"github.com/serverless-oidc/op/internal/store/lambdastore"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func main() {
	fn := app.NewFunction(context.Background(), oidc.FunctionAuthorize,
		app.Backends{Storage: lambdastore.Backends, Signer: lambdasigner.Backends,
			Connectors: connectors.Types, Secrets: secretsmanager.Reader(awssdk.FromEnvironment), Pages: oidc.HTMLPages(), Metrics: os.Stdout}, os.Getenv, os.Stdout)
	lambda.Start(lambdahttp.Handler(fn.Handler, lambdahttp.WithLogger(fn.Logger), lambdahttp.WithObserver(fn.Metrics.Request)))
}
