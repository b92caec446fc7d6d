// Package lambda holds the end-to-end tests of the Lambda functions; it has
// no code of its own.
//
//   - runtime_test.go runs each real functions/<name> binary against an
//     in-test implementation of the Lambda Runtime API and measures cold
//     starts (BenchmarkColdStart);
//   - flow_test.go performs the authorization-code flow with PKCE through
//     API Gateway HTTP API events between the functions, and checks that the
//     local server behaves the same;
//   - docs_test.go keeps docs/lambda.md and the functions' doc comments in
//     step with oidc.Routes and config.EnvVars.
package lambda
