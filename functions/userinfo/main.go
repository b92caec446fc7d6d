// Command userinfo is the userinfo Lambda function: the UserInfo endpoint.
// It owns these routes, relative to the issuer's path (oidc.Routes,
// function oidc.FunctionUserInfo):
//
//   - GET /userinfo
//   - POST /userinfo
//   - OPTIONS /userinfo
//
// Any other request is answered with a JSON 404. The function is a
// composition root only: app.NewFunction reads the settings (OIDC_CONFIG and
// the other variables of config.EnvVars) and builds this function's endpoint
// type once, at cold start, from the backend tables passed here; every
// invocation reuses it.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/lambdahttp"
	"github.com/serverless-oidc/op/internal/signer/lambdasigner"
	"github.com/serverless-oidc/op/internal/store/lambdastore"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func main() {
	fn := app.NewFunction(context.Background(), oidc.FunctionUserInfo,
		app.Backends{Storage: lambdastore.Backends, Signer: lambdasigner.Backends, Metrics: os.Stdout}, os.Getenv, os.Stdout)
	lambda.Start(lambdahttp.Handler(fn.Handler, lambdahttp.WithLogger(fn.Logger), lambdahttp.WithObserver(fn.Metrics.Request)))
}
