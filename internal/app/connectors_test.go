package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// withConnectors is testConfig with one connector of each type, in Dex's
// keys; the secrets come from the environment (connectorEnv).
const withConnectors = `connectors:
  - type: oidc
    id: corp
    name: Corp SSO
    config:
      issuer: https://sso.example.com
      clientID: op
      clientSecret: $CORP_SECRET
      redirectURI: ` + testIssuer + `/callback
  - type: github
    id: github
    name: GitHub
    config:
      clientID: gh
      clientSecret: $GITHUB_CLIENT_SECRET
  - type: oauth
    id: reddit
    upstreamRefresh: false
    config:
      clientID: r
      clientSecret: ${REDDIT_SECRET}
      authorizationURL: https://www.reddit.com/api/v1/authorize
      tokenURL: https://www.reddit.com/api/v1/access_token
      userInfoURL: https://www.reddit.com/api/v1/me
`

const connectorSecret = "Y29ubmVjdG9yLXNlY3JldA"

// connectorEnv is the functions' environment for withConnectors.
func connectorEnv(t *testing.T) env {
	path := writeConfig(t, strings.NewReplacer("LEVEL", "debug", "FORMAT", "json").Replace(testConfig)+withConnectors)
	return env{config.EnvConfig: path, "CORP_SECRET": connectorSecret, "GITHUB_CLIENT_SECRET": connectorSecret, "REDDIT_SECRET": connectorSecret}
}

// TestFunctionsWithConnectors: a config with connectors builds every
// function, without a secret in the log; the login page lists the
// connectors in file order, then the password database (Dex appends it).
func TestFunctionsWithConnectors(t *testing.T) {
	e := connectorEnv(t)
	for _, fn := range oidc.Functions {
		var logs bytes.Buffer
		f := NewFunction(context.Background(), fn, allBackends, e.get, &logs)
		if strings.Contains(logs.String(), "misconfigured") || strings.Contains(logs.String(), connectorSecret) {
			t.Errorf("%s: %s", fn, logs.String())
		}
		if fn != oidc.FunctionAuthorize {
			continue
		}
		q := url.Values{"client_id": {"example-app"}, "redirect_uri": {"http://127.0.0.1:5555/callback"},
			"response_type": {"code"}, "scope": {"openid"}, "state": {"st"}}
		w := serve(f.Handler, "GET", "/prod/authorize?"+q.Encode())
		body := w.Body.String()
		var at []int
		for _, name := range []string{"Corp SSO", "GitHub", "reddit", "Email"} {
			at = append(at, strings.Index(body, name))
		}
		if w.Code != 200 || slices.Contains(at, -1) || !slices.IsSorted(at) {
			t.Errorf("login page: %d, names at %v:\n%s", w.Code, at, body)
		}
	}
}

// TestConnectorVariableMissing: a connector's variable that is unset fails
// the functions that open connectors, naming the key and the variable;
// the others do not read connector sections and serve.
func TestConnectorVariableMissing(t *testing.T) {
	e := connectorEnv(t)
	delete(e, "GITHUB_CLIENT_SECRET")
	for _, fn := range oidc.Functions {
		var logs bytes.Buffer
		NewFunction(context.Background(), fn, allBackends, e.get, &logs)
		opens := fn == oidc.FunctionAuthorize || fn == oidc.FunctionToken
		const want = `connectors[1].config.clientSecret: environment variable \"GITHUB_CLIENT_SECRET\" is unset or empty`
		if got := strings.Contains(logs.String(), want); got != opens {
			t.Errorf("%s: logged the missing variable: %v; want %v:\n%s", fn, got, opens, logs.String())
		}
	}
}

// TestOpenConnectors: each connector as the core gets it; a type missing
// from the binary's table and a secret without a reader are errors.
func TestOpenConnectors(t *testing.T) {
	e := connectorEnv(t)
	cfg, err := config.Load(e[config.EnvConfig], e.get)
	if err != nil {
		t.Fatal(err)
	}
	got, err := openConnectors(t.Context(), cfg, allBackends, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		ID, Type, Name    string
		Callback, Refresh bool
	}
	var sums []summary
	for _, c := range got {
		sums = append(sums, summary{c.ID, c.Type, c.Name, c.Callback != nil, c.UpstreamRefresh})
	}
	want := []summary{
		{"corp", "oidc", "Corp SSO", true, true}, {"github", "github", "GitHub", true, true},
		{"reddit", "oauth", "reddit", true, false}, {"local", "local", "Email", false, false},
	}
	if !slices.Equal(sums, want) {
		t.Errorf("connectors\n%+v\nwant\n%+v", sums, want)
	}

	_, err = openConnectors(t.Context(), cfg, Backends{}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), `connectors[0].type: connector type "oidc": this program opens no connector`) {
		t.Errorf("no table: %v", err)
	}
	e["CORP_SECRET"] = "secretsmanager:prod/corp"
	cfg, err = config.Load(e[config.EnvConfig], e.get)
	if err != nil {
		t.Fatal(err)
	}
	_, err = openConnectors(t.Context(), cfg, allBackends, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "connectors[0].config.clientSecret: secretsmanager:prod/corp: this program reads no secret") {
		t.Errorf("secret without a reader: %v", err)
	}
	b := allBackends
	b.Secrets = func(context.Context, string) (string, error) { return "from-secrets-manager", nil }
	if _, err := openConnectors(t.Context(), cfg, b, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("secret with a reader: %v", err)
	}
}

// TestConnectorSettings: oauth2.alwaysShowLoginScreen and
// extensions.plainSubjects reach the core's settings.
func TestConnectorSettings(t *testing.T) {
	cfg, err := config.Parse([]byte("issuer: https://id.example.com\noauth2:\n  alwaysShowLoginScreen: true\nextensions:\n  plainSubjects: true\n"), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := settings(cfg, nil, time.Now, slog.New(slog.DiscardHandler))
	if !s.AlwaysShowLoginScreen || !s.PlainSubjects {
		t.Errorf("settings %+v", s)
	}
}

// TestSecretUnavailableAtStart: a secret that AWS Secrets Manager does not
// return at cold start (throttled, timed out) makes the function answer
// 503 temporarily_unavailable and retry its start, not serve a
// misconfiguration until the instance is replaced.
func TestSecretUnavailableAtStart(t *testing.T) {
	defer func(d time.Duration) { retryBuildEvery = d }(retryBuildEvery)
	retryBuildEvery = 0
	e := connectorEnv(t)
	e["CORP_SECRET"] = "secretsmanager:prod/corp"
	var reads int
	b := allBackends
	b.Secrets = func(context.Context, string) (string, error) {
		if reads++; reads <= 2 {
			return "", fmt.Errorf("%w: ThrottlingException", oidc.ErrUnavailable)
		}
		return connectorSecret, nil
	}
	var logs bytes.Buffer
	f := NewFunction(context.Background(), oidc.FunctionAuthorize, b, e.get, &logs)
	if strings.Contains(logs.String(), "misconfigured") {
		t.Fatalf("an unavailable secret logged as a misconfiguration:\n%s", logs.String())
	}
	w := serve(f.Handler, "GET", "/prod/authorize")
	if w.Code != 503 || !strings.Contains(w.Body.String(), "temporarily_unavailable") || w.Header().Get("Retry-After") == "" {
		t.Errorf("while the secret is unavailable: %d %s", w.Code, w.Body)
	}
	w = serve(f.Handler, "GET", "/prod/authorize")
	if w.Code == 503 || reads != 3 {
		t.Errorf("once the secret reads: %d after %d reads; want the function serving", w.Code, reads)
	}

	// A secret that is missing is a misconfiguration: no retry.
	b.Secrets = func(context.Context, string) (string, error) { return "", errors.New("ResourceNotFoundException") }
	logs.Reset()
	NewFunction(context.Background(), oidc.FunctionAuthorize, b, e.get, &logs)
	if !strings.Contains(logs.String(), "misconfigured") {
		t.Errorf("a missing secret: %s; want the misconfiguration", logs.String())
	}
}
