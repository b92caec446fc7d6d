package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// logVolumeConfig has the demo client and user; one wrong password per
// account and address is allowed, so that the second one is throttled, and
// a rotated refresh token is reused as soon as it comes back.
const logVolumeConfig = `issuer: ISSUER
enablePasswordDB: true
staticClients:
  - id: example-app
    name: Example App
    secret: ZXhhbXBsZS1hcHAtc2VjcmV0
    redirectURIs: [http://127.0.0.1:5555/callback]
staticPasswords:
  - email: admin@example.com
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
expiry:
  refreshTokens:
    reuseInterval: 0s
extensions:
  loginThrottle:
    perAccountAndIP: 1
logger:
  level: LEVEL
  format: json
`

// logServer is the local server (logRequests around the provider) logging
// JSON at level into a buffer.
type logServer struct {
	issuer string
	logs   *syncBuffer
	oidc   *gooidc.Provider
	conf   oauth2.Config
}

func newLogServer(t *testing.T, level string) *logServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	body := strings.NewReplacer("ISSUER", issuer, "LEVEL", level).Replace(logVolumeConfig)
	cfg, err := config.Parse([]byte(body), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := app.NewLogger(cfg.Logger, logs)
	p, err := app.New(t.Context(), cfg, logger, app.Backends{Storage: store.Backends, Signer: signer.Backends})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = logRequests(logger, p.Handler())
	srv.Start()
	t.Cleanup(srv.Close)
	provider, err := gooidc.NewProvider(t.Context(), issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &logServer{issuer: issuer, logs: logs, oidc: provider, conf: oauth2.Config{
		ClientID: demoClient, ClientSecret: demoSecret, RedirectURL: "http://127.0.0.1:5555/callback",
		Endpoint: provider.Endpoint(), Scopes: []string{gooidc.ScopeOpenID, "email", gooidc.ScopeOfflineAccess},
	}}
}

// code signs in with password in a new browser and returns the code (""
// and the error when the login does not reach the client).
func (s *logServer) code(t *testing.T, login, password, verifier string) (string, error) {
	t.Helper()
	loc, err := oidctest.NewBrowser().Authorize(s.conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)), login, password)
	if err != nil {
		return "", err
	}
	return loc.Query().Get("code"), nil
}

// login runs a code flow with PKCE, a refresh and a userinfo call, and
// returns the code and both token sets.
func (s *logServer) login(t *testing.T) (code, verifier string, first, refreshed *oauth2.Token) {
	t.Helper()
	ctx := context.Background()
	verifier = oauth2.GenerateVerifier()
	code, err := s.code(t, demoUser, "password", verifier)
	if err != nil || code == "" {
		t.Fatalf("login: %q %v", code, err)
	}
	first, err = s.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.oidc.Verifier(&gooidc.Config{ClientID: demoClient}).Verify(ctx, first.Extra("id_token").(string)); err != nil {
		t.Fatal(err)
	}
	refreshed, err = s.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.oidc.UserInfo(ctx, oauth2.StaticTokenSource(refreshed)); err != nil {
		t.Fatal(err)
	}
	return code, verifier, first, refreshed
}

// entries parses the log lines written since the last call.
func (s *logServer) entries(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(s.logs.take(), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		out = append(out, e)
	}
	return out
}

// TestLogVolume: at info a successful login (code flow with PKCE, refresh,
// userinfo) writes nothing, and each security event one line with its
// request id; at debug every request has its line. It logs the bytes per
// login that docs/lambda.md ("Log volume and cost") quotes.
func TestLogVolume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs several logins with bcrypt")
	}
	t.Run("info", func(t *testing.T) {
		s := newLogServer(t, "info")
		s.entries(t) // start-up lines
		const logins = 3
		for range logins {
			s.login(t)
		}
		size := len(s.logs.String())
		if got := s.entries(t); len(got) != 0 {
			t.Errorf("successful logins at info wrote %d lines; want none: %v", len(got), got)
		}
		t.Logf("info: %d bytes per login", size/logins)

		ctx := context.Background()
		code, verifier, first, _ := s.login(t)
		s.entries(t)
		events := []struct {
			name  string
			run   func()
			level string
			msg   string
		}{
			{"wrong password", func() { _, _ = s.code(t, "nobody@example.com", "guess", oauth2.GenerateVerifier()) }, "INFO", "wrong password"},
			{"throttled login", func() { _, _ = s.code(t, "nobody@example.com", "guess", oauth2.GenerateVerifier()) }, "WARN", "login throttled"},
			{"replayed code", func() { _, _ = s.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)) }, "WARN", "authorization code replayed"},
			{"wrong client secret", func() {
				bad := s.conf
				bad.ClientSecret = "wrong"
				_, _ = bad.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
			}, "INFO", "oidc error"},
		}
		for _, ev := range events {
			ev.run()
			n := len(s.logs.String())
			got := s.entries(t)
			t.Logf("%s: %d bytes", ev.name, n)
			if len(got) != 1 || got[0]["level"] != ev.level || !strings.HasPrefix(got[0]["msg"].(string), ev.msg) || got[0]["request_id"] == "" || got[0]["request_id"] == nil {
				t.Errorf("%s: logged %v; want one %s line %q with a request_id", ev.name, got, ev.level, ev.msg)
			}
		}

		// Refresh token reuse: a rotated token presented again.
		_, _, second, _ := s.login(t)
		s.entries(t)
		_, _ = s.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: second.RefreshToken}).Token()
		if got := s.entries(t); len(got) != 1 || got[0]["level"] != "WARN" || !strings.HasPrefix(got[0]["msg"].(string), "refresh token reuse detected") {
			t.Errorf("refresh reuse: logged %v; want one WARN line", got)
		}
	})
	t.Run("debug", func(t *testing.T) {
		s := newLogServer(t, "debug")
		s.entries(t)
		const logins = 3
		for range logins {
			s.login(t)
		}
		size := len(s.logs.String())
		var requests int
		for _, e := range s.entries(t) {
			if e["msg"] == "request" && e["level"] == "DEBUG" && e["request_id"] != "" {
				requests++
			}
		}
		// Per login GET /authorize, POST /login, two POST /token, GET
		// /userinfo; POST /consent and GET /.well-known/jwks.json the
		// first time.
		if want := 5*logins + 2; requests != want {
			t.Errorf("%d request lines at debug; want %d, one per request", requests, want)
		}
		t.Logf("debug: %d bytes per login, %d request lines for %d logins", size/logins, requests, logins)
	})
}

// take returns what was written and empties the buffer.
func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}
