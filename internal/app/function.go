package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Environment variables the Lambda service sets; they are the service's, not
// ours (config.EnvVars lists ours).
const (
	// EnvLambdaFunctionName is set in every Lambda execution environment; its
	// presence means "running in Lambda".
	EnvLambdaFunctionName = "AWS_LAMBDA_FUNCTION_NAME"
	// EnvLambdaLogLevel is the application log level of Lambda's advanced
	// logging controls (TRACE, DEBUG, INFO, WARN, ERROR, FATAL), set when the
	// function's LoggingConfig names one.
	EnvLambdaLogLevel = "AWS_LAMBDA_LOG_LEVEL"
)

// misconfiguredBody is the whole answer of a function that could not be
// built. It says nothing about why: the reason is in the function's log.
const misconfiguredBody = `{"error":"server_error","error_description":"the provider is misconfigured"}`

// Function is one Lambda function as composed at cold start: the handler for
// its routes and the logger built from the same settings (for the adapter's
// own log lines).
type Function struct {
	Handler http.Handler
	Logger  *slog.Logger
}

// NewFunction composes the Lambda function named function (one of
// oidc.Functions) at cold start: it reads the deployment settings with
// config.FromEnvironment(getenv), builds the logger (writing to w) and the
// provider with New, and keeps the handler of the function's routes. It does
// no network I/O.
//
// Logging: in Lambda (AWS_LAMBDA_FUNCTION_NAME set) lines are always JSON,
// whatever logger.format says, so that CloudWatch Logs Insights sees fields;
// the level is AWS_LAMBDA_LOG_LEVEL when Lambda's advanced logging controls
// set it, else logger.level. Outside Lambda the config's logger settings
// apply as they are. Every line carries the function name.
//
// NewFunction never fails and never panics: if the settings are missing or
// malformed, the provider cannot be built, or function names no function, it
// logs one structured error line (which names the problems; configuration
// errors never contain secrets) and returns a handler that answers every
// request 500 {"error":"server_error","error_description":"the provider is
// misconfigured"} with Cache-Control: no-store. A function that cannot work
// then still answers in the OAuth error format, and API Gateway does not
// retry a failing init on every request.
func NewFunction(ctx context.Context, function string, getenv func(string) string, w io.Writer) Function {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	inLambda := getenv(EnvLambdaFunctionName) != ""
	// Until the config is read, log as Lambda would want or as text.
	logger := functionLogger(config.Logger{}, inLambda, getenv, w, function)

	if !slices.Contains(oidc.Functions, function) {
		return misconfigured(ctx, logger, errors.New("unknown function name; want one of "+strings.Join(oidc.Functions, ", ")))
	}
	cfg, err := config.FromEnvironment(getenv)
	if err != nil {
		return misconfigured(ctx, logger, err)
	}
	logger = functionLogger(cfg.Logger, inLambda, getenv, w, function)
	provider, err := New(ctx, cfg, logger)
	if err != nil {
		return misconfigured(ctx, logger, err)
	}
	if inLambda {
		warnInstanceState(ctx, logger, cfg)
	}
	return Function{Handler: provider.FunctionHandler(function), Logger: logger}
}

// warnInstanceState warns, in Lambda, about settings whose state lives in
// one execution environment: memory storage (a login started in one
// instance cannot finish in another, and the authorize and token functions
// never share codes) and a local key generated at start (each instance signs
// with its own key, which the jwks function does not publish). They serve
// single-instance smoke tests; a deployment sets OIDC_DYNAMODB_TABLE and
// OIDC_KMS_KEY_IDS.
func warnInstanceState(ctx context.Context, logger *slog.Logger, cfg *config.Config) {
	if cfg.Storage.Type == "memory" {
		logger.LogAttrs(ctx, slog.LevelWarn, "oidc: memory storage lives in one Lambda instance: logins cannot complete across functions or instances; set "+config.EnvDynamoDBTable)
	}
	var lc local.Config
	if cfg.Signer.Type == "local" && cfg.Signer.Config.Decode(&lc) == nil && lc.KeyFile == "" {
		logger.LogAttrs(ctx, slog.LevelWarn, "oidc: the signing key is generated per Lambda instance: tokens do not verify against other instances' keys; set "+config.EnvKMSKeyIDs)
	}
}

// functionLogger builds a function's logger; see NewFunction.
func functionLogger(c config.Logger, inLambda bool, getenv func(string) string, w io.Writer, function string) *slog.Logger {
	if inLambda {
		c.Format = "json"
		if lvl := lambdaLevel(getenv(EnvLambdaLogLevel)); lvl != "" {
			c.Level = lvl
		}
	}
	return NewLogger(c, w).With(slog.String("function", function))
}

// lambdaLevel maps a Lambda application log level to ours ("" if unset or
// unknown).
func lambdaLevel(v string) string {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "TRACE", "DEBUG":
		return "debug"
	case "INFO":
		return "info"
	case "WARN":
		return "warn"
	case "ERROR", "FATAL":
		return "error"
	}
	return ""
}

// misconfigured logs why the function cannot serve, on one line, and returns
// the function that answers every request with the misconfiguration error.
func misconfigured(ctx context.Context, logger *slog.Logger, err error) Function {
	logger.LogAttrs(ctx, slog.LevelError, "oidc: the provider is misconfigured; every request will be answered 500",
		slog.Any("problems", problems(err)))
	return Function{Handler: http.HandlerFunc(serveMisconfigured), Logger: logger}
}

// problems lists the messages of err, one per joined error, each on one
// line, so that the log entry stays one line in any format.
func problems(err error) []string {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		for _, line := range strings.Split(e.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out
}

func serveMisconfigured(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, misconfiguredBody)
}
