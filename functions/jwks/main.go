// Command jwks is the jwks Lambda function: the JSON Web Key Set the provider signs with.
// It owns these routes, relative to the issuer's path (oidc.Routes,
// function oidc.FunctionJWKS):
//
//   - GET /.well-known/jwks.json
//   - OPTIONS /.well-known/jwks.json
//
// Any other request is answered with a JSON 404. The function is a
// composition root only: app.NewFunction reads the settings (OIDC_CONFIG and
// the other variables of config.EnvVars) and builds this function's endpoint
// type once, at cold start, from the backend tables passed here; every
// invocation reuses it.
// It opens only the signer: its binary links no storage backend.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/lambdahttp"
	"github.com/serverless-oidc/op/internal/signer/lambdasigner"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func main() {
	fn := app.NewFunction(context.Background(), oidc.FunctionJWKS,
		app.Backends{Signer: lambdasigner.Backends, Metrics: os.Stdout}, os.Getenv, os.Stdout)
	lambda.Start(lambdahttp.Handler(fn.Handler, lambdahttp.WithLogger(fn.Logger), lambdahttp.WithObserver(fn.Metrics.Request)))
}
