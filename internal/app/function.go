package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/metrics"
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
	// Metrics records the function's requests (the Lambda adapter's
	// observer: lambdahttp.WithObserver(fn.Metrics.Request)); nil, which
	// records nothing, when Backends.Metrics is nil.
	Metrics *metrics.Recorder
}

// NewFunction composes the Lambda function named function (one of
// oidc.Functions) at cold start: it reads the deployment settings with
// config.FromEnvironment(getenv), builds the logger (writing to w), and
// builds that function's endpoint type alone, opening from backends only
// what it uses: discovery nothing, jwks the signer, the others the storage
// and the signer. It does no network I/O.
//
// Logging: in Lambda (AWS_LAMBDA_FUNCTION_NAME set) lines are always JSON,
// whatever logger.format says, so that CloudWatch Logs Insights sees fields;
// the level is AWS_LAMBDA_LOG_LEVEL when Lambda's advanced logging controls
// set it, else logger.level. Outside Lambda the config's logger settings
// apply as they are. Every line carries the function name.
//
// Metrics: with backends.Metrics set (the mains pass os.Stdout), the
// function records its start (ColdStarts, MisconfiguredStarts), its AWS
// calls (SDK middleware on the DynamoDB and KMS clients) and, through
// Function.Metrics, each request the Lambda adapter serves, as CloudWatch
// Embedded Metric Format lines (package metrics).
//
// NewFunction never fails and never panics: if the settings are missing or
// malformed, the endpoints cannot be built, or function names no function,
// it logs one structured error line (which names the problems;
// configuration errors never contain secrets) and returns a handler that
// answers every request 500 {"error":"server_error","error_description":
// "the provider is misconfigured"} with Cache-Control: no-store. A function
// that cannot work then still answers in the OAuth error format, and API
// Gateway does not retry a failing init on every request.
func NewFunction(ctx context.Context, function string, backends Backends, getenv func(string) string, w io.Writer) Function {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	inLambda := getenv(EnvLambdaFunctionName) != ""
	// Until the config is read, log as Lambda would want or as text.
	logger := functionLogger(config.Logger{}, inLambda, getenv, w, function)
	metricsFunction := function
	if !slices.Contains(oidc.Functions, function) {
		metricsFunction = metrics.Other // bounded: never an arbitrary name
	}
	rec := newRecorder(backends.Metrics, metricsFunction, "", getenv(EnvLambdaLogLevel))

	if !slices.Contains(oidc.Functions, function) {
		return misconfigured(ctx, logger, rec, errors.New("unknown function name; want one of "+strings.Join(oidc.Functions, ", ")))
	}
	cfg, err := config.FromEnvironmentFor(function, getenv)
	if err != nil {
		return misconfigured(ctx, logger, rec, err)
	}
	logger = functionLogger(cfg.Logger, inLambda, getenv, w, function)
	rec = newRecorder(backends.Metrics, function, issuerPath(cfg.Issuer), getenv(EnvLambdaLogLevel))
	if rec != nil {
		backends.observeAWSCall = rec.AWSCall
		backends.recorder = rec
	}
	h, err := endpoint(ctx, function, cfg, logger, backends, inLambda)
	if errors.Is(err, oidc.ErrUnavailable) {
		rec.Start(false)
		f := retrying(ctx, logger, err, func(ctx context.Context) (http.Handler, error) {
			return endpoint(ctx, function, cfg, logger, backends, inLambda)
		})
		f.Metrics = rec
		return f
	}
	if err != nil {
		return misconfigured(ctx, logger, rec, err)
	}
	rec.Start(false)
	return Function{Handler: h, Logger: logger, Metrics: rec}
}

// newRecorder is the metrics recorder writing to w, or nil without w; its
// lines carry a level Lambda's log-level filtering at logLevel keeps.
func newRecorder(w io.Writer, function, issuerPath, logLevel string) *metrics.Recorder {
	if w == nil {
		return nil
	}
	return metrics.New(w, function, issuerPath, logLevel, nil)
}

// issuerPath is the path of the issuer URL, which prefixes every route.
func issuerPath(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// retryBuildEvery spaces the builds of a function whose dependency was
// unavailable at cold start.
var retryBuildEvery = 5 * time.Second // a variable for the tests

// retrying is the function whose build failed for a reason that may pass
// (AWS Secrets Manager throttled or timed out at cold start): each request
// tries the build again, at most once per retryBuildEvery, and until one
// succeeds is answered 503 temporarily_unavailable, never the 500 of a
// misconfiguration, which would last until Lambda replaced the instance.
func retrying(ctx context.Context, logger *slog.Logger, err error, build func(context.Context) (http.Handler, error)) Function {
	logger.LogAttrs(ctx, slog.LevelError, "oidc: a dependency was unavailable at start; requests retry the start",
		slog.Any("problems", problems(err)))
	var (
		mu    sync.Mutex
		built http.Handler
		next  = time.Now().Add(retryBuildEvery)
	)
	return Function{Logger: logger, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := built
		if h == nil && !time.Now().Before(next) {
			var err error
			if h, err = build(r.Context()); err != nil {
				logger.LogAttrs(r.Context(), slog.LevelError, "oidc: start retried and failed", slog.Any("problems", problems(err)))
				h, next = nil, time.Now().Add(retryBuildEvery)
			}
			built = h
		}
		mu.Unlock()
		if h == nil {
			serveUnavailable(w)
			return
		}
		h.ServeHTTP(w, r)
	})}
}

// unavailableBody answers while a function's start is retried.
const unavailableBody = `{"error":"temporarily_unavailable","error_description":"the service is starting, retry later"}`

func serveUnavailable(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "5")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, unavailableBody)
}

// endpoint builds the endpoint type of one function with only the backends
// it uses.
func endpoint(ctx context.Context, function string, cfg *config.Config, logger *slog.Logger, backends Backends, lambda bool) (http.Handler, error) {
	need := needs{storage: true, signer: true}
	switch function {
	case oidc.FunctionDiscovery:
		need = needs{}
	case oidc.FunctionJWKS:
		need = needs{signer: true, signOnly: true}
	case oidc.FunctionUserInfo:
		// Signed userinfo signs with the current key; the token and
		// authorize functions make and renew keys.
		need.signOnly = true
	case oidc.FunctionAuthorize, oidc.FunctionToken:
		need.connectors = true
		need.registration = function == oidc.FunctionToken
	}
	p, err := compose(ctx, cfg, logger, backends, need, lambda)
	if err != nil {
		return nil, err
	}
	var e interface{ Handler() http.Handler }
	switch function {
	case oidc.FunctionDiscovery:
		e, err = oidc.NewDiscovery(p.settings)
	case oidc.FunctionJWKS:
		e, err = oidc.NewJWKS(p.settings, p.signer)
	case oidc.FunctionUserInfo:
		e, err = oidc.NewUserInfo(p.settings, oidc.UserInfoBackends{
			Clients: p.clients, Users: p.users, Revocations: p.store, Signer: p.signer, Identities: p.store,
			ConnectorIDs: connectorIDs(cfg), Replays: p.store})
	case oidc.FunctionToken:
		e, err = oidc.NewToken(p.settings, oidc.TokenBackends{
			Clients: p.clients, Users: p.users, Codes: p.store, Refresh: p.store, Revocations: p.store,
			Attempts: p.store, Signer: p.signer, Connectors: p.connectors, Identities: p.store,
			Devices: p.store, Registry: p.store, Replays: p.store, PushedRequests: p.store})
	case oidc.FunctionAuthorize:
		e, err = oidc.NewAuthorize(p.settings, oidc.AuthorizeBackends{
			Clients: p.clients, Users: p.users, AuthRequests: p.store, Codes: p.store,
			Sessions: p.store, Consents: p.store, Attempts: p.store, Signer: p.signer,
			Connectors: p.connectors, ConnectorStates: p.store, Identities: p.store,
			Devices: p.store, PushedRequests: p.store, Replays: p.store, Pages: backends.Pages})
	}
	if err != nil {
		return nil, err
	}
	return guardOrigin(ctx, cfg, backends.Secrets, backends.recorder.OriginRejected, e.Handler())
}

// misconfigured logs why the function cannot serve, on one line, and returns
// the function that answers every request with the misconfiguration error.
func misconfigured(ctx context.Context, logger *slog.Logger, rec *metrics.Recorder, err error) Function {
	logger.LogAttrs(ctx, slog.LevelError, "oidc: the provider is misconfigured; every request will be answered 500",
		slog.Any("problems", problems(err)))
	rec.Start(true)
	return Function{Handler: http.HandlerFunc(serveMisconfigured), Logger: logger, Metrics: rec}
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
