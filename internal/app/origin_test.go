package app

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/lambdahttp"
	"github.com/serverless-oidc/op/internal/metrics"
	"github.com/serverless-oidc/op/pkg/oidc"
)

const originValue = "b3JpZ2luLXZlcmlmeS12YWx1ZS0zMi1jaGFyYWN0ZXJz"

// invoke sends one API Gateway event through the Lambda adapter, as the
// functions' mains wire it.
func invoke(t *testing.T, f Function, method, path string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, Headers: headers}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	ev.RequestContext.HTTP.SourceIP = "192.0.2.1"
	ev.RequestContext.DomainName = "abc.execute-api.eu-west-1.amazonaws.com"
	res, err := lambdahttp.Handler(f.Handler, lambdahttp.WithLogger(f.Logger))(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestOriginCheck: with OIDC_ORIGIN_VERIFY, every function refuses, 403
// with a JSON error, a request without X-Origin-Verify or with another
// value (a request straight to the execute-api endpoint), and serves one
// that carries it (through CloudFront). The value reaches no log.
func TestOriginCheck(t *testing.T) {
	path := validConfig(t, "debug", "json")
	for _, fn := range oidc.Functions {
		t.Run(fn, func(t *testing.T) {
			var logs, emf bytes.Buffer
			backends := allBackends
			backends.Metrics = &emf
			f := NewFunction(context.Background(), fn, backends,
				env{config.EnvConfig: path, config.EnvOriginVerify: originValue}.get, &logs)
			var route oidc.Route
			for _, rt := range oidc.Routes {
				if rt.Function == fn && rt.Method == http.MethodGet {
					route = rt
					break
				}
			}
			if route.Path == "" {
				route = oidc.Route{Method: http.MethodPost, Path: oidc.PathToken}
			}
			for _, tt := range []struct {
				name    string
				headers map[string]string
			}{
				{"no header", nil},
				{"wrong value", map[string]string{"x-origin-verify": originValue + "x"}},
				{"empty value", map[string]string{"x-origin-verify": ""}},
				{"two values", map[string]string{"x-origin-verify": originValue + "," + originValue}},
			} {
				res := invoke(t, f, route.Method, "/prod"+route.Sample(), tt.headers)
				if res.StatusCode != http.StatusForbidden || res.Body != forbiddenBody || res.Headers["Content-Type"] != "application/json" {
					t.Errorf("%s: %d %v %s; want 403 JSON", tt.name, res.StatusCode, res.Headers, res.Body)
				}
			}
			res := invoke(t, f, route.Method, "/prod"+route.Sample(), map[string]string{"x-origin-verify": originValue})
			if res.StatusCode == http.StatusForbidden {
				t.Errorf("with the header: %d %s; want served", res.StatusCode, res.Body)
			}
			if strings.Contains(logs.String(), originValue) || strings.Contains(emf.String(), originValue) {
				t.Errorf("the origin value reached the log:\n%s", logs.String())
			}
			// Each refusal is one SecurityEvents line (Event origin_rejected).
			if n := strings.Count(emf.String(), `"Event":"`+metrics.EventOriginRejected+`"`); n != 4 {
				t.Errorf("%d origin_rejected metric lines; want 4:\n%s", n, emf.String())
			}
		})
	}
}

// TestOriginCheckSettings: without the variable nothing is checked; a
// secretsmanager: reference is read once; a short value or a reference
// without Secrets Manager is a misconfiguration that does not show it.
func TestOriginCheckSettings(t *testing.T) {
	path := validConfig(t, "info", "json")
	f := NewFunction(context.Background(), oidc.FunctionDiscovery, allBackends, env{config.EnvConfig: path}.get, nil)
	if res := invoke(t, f, "GET", "/prod"+oidc.PathDiscovery, nil); res.StatusCode != http.StatusOK {
		t.Errorf("no OIDC_ORIGIN_VERIFY: %d; want 200 without the header", res.StatusCode)
	}

	b := allBackends
	var reads []string
	b.Secrets = func(_ context.Context, id string) (string, error) {
		reads = append(reads, id)
		if id != "arn:origin" {
			return "", errors.New("ResourceNotFoundException")
		}
		return originValue, nil
	}
	f = NewFunction(context.Background(), oidc.FunctionDiscovery, b,
		env{config.EnvConfig: path, config.EnvOriginVerify: "secretsmanager:arn:origin"}.get, nil)
	if res := invoke(t, f, "GET", "/prod"+oidc.PathDiscovery, map[string]string{"X-Origin-Verify": originValue}); res.StatusCode != http.StatusOK {
		t.Errorf("secretsmanager: value: %d %s; want 200", res.StatusCode, res.Body)
	}
	if res := invoke(t, f, "GET", "/prod"+oidc.PathDiscovery, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("secretsmanager: value, no header: %d; want 403", res.StatusCode)
	}
	if len(reads) != 1 {
		t.Errorf("secret read %d times; want once, at start", len(reads))
	}

	noSecrets := allBackends
	noSecrets.Secrets = nil
	for name, tt := range map[string]struct {
		b     Backends
		value string
	}{
		"short":             {allBackends, "too-short"},
		"no secrets reader": {noSecrets, "secretsmanager:arn:origin"},
	} {
		var logs bytes.Buffer
		f := NewFunction(context.Background(), oidc.FunctionDiscovery, tt.b,
			env{config.EnvConfig: path, config.EnvOriginVerify: tt.value}.get, &logs)
		if res := invoke(t, f, "GET", "/prod"+oidc.PathDiscovery, map[string]string{"X-Origin-Verify": tt.value}); res.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s: %d; want the misconfiguration's 500", name, res.StatusCode)
		}
		if !strings.Contains(logs.String(), config.EnvOriginVerify) || (name == "short" && strings.Contains(logs.String(), tt.value)) {
			t.Errorf("%s: log %s; want the variable named, its value not shown", name, logs.String())
		}
	}
}
