// Command token is the token Lambda function: the token endpoint, token
// revocation (RFC 7009), token introspection (RFC 7662), pushed
// authorization requests (RFC 9126), the device authorization endpoint
// (RFC 8628) and dynamic client registration (RFC 7591, RFC 7592).
// It owns these routes, relative to the issuer's path (oidc.Routes,
// function oidc.FunctionToken):
//
//   - POST /token
//   - OPTIONS /token
//   - POST /revoke
//   - OPTIONS /revoke
//   - POST /introspect
//   - POST /par
//   - OPTIONS /par
//   - POST /device/code
//   - POST /register
//   - GET /register/{proxy+}
//   - PUT /register/{proxy+}
//   - DELETE /register/{proxy+}
//
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
	fn := app.NewFunction(context.Background(), oidc.FunctionToken,
		app.Backends{Storage: lambdastore.Backends, Signer: lambdasigner.Backends,
			Connectors: connectors.Types, Secrets: secretsmanager.Reader(awssdk.FromEnvironment), Metrics: os.Stdout}, os.Getenv, os.Stdout)
	lambda.Start(lambdahttp.Handler(fn.Handler, lambdahttp.WithLogger(fn.Logger), lambdahttp.WithObserver(fn.Metrics.Request)))
}
