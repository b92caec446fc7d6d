package app

import (
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestSessionsWiring: Dex's sessions section and ssoSharedWith reach the
// provider's settings and clients.
func TestSessionsWiring(t *testing.T) {
	cfg, err := config.Parse([]byte(`issuer: https://id.example.com
sessions:
  absoluteLifetime: 24h
  validIfNotUsedFor: 1h
  ssoSharedWithDefault: all
staticClients:
  - id: portal-app
    secret: s
    redirectURIs: ["https://portal.example.com/callback"]
    ssoSharedWith: ["dashboard-app"]
  - id: dashboard-app
    secret: s
    redirectURIs: ["https://dashboard.example.com/callback"]
    ssoSharedWith: []
  - id: admin-app
    secret: s
    redirectURIs: ["https://admin.example.com/callback"]
`), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := settings(cfg, nil, time.Now, slog.New(slog.DiscardHandler))
	if s.SessionLifetime != 24*time.Hour || s.SessionIdleTimeout != time.Hour || s.SSOSharedWithDefault != oidc.SSOShareAll {
		t.Errorf("settings: lifetime %v, idle %v, default %q; want 24h, 1h, all", s.SessionLifetime, s.SessionIdleTimeout, s.SSOSharedWithDefault)
	}
	for i, want := range []struct {
		list []string
		set  bool
	}{{[]string{"dashboard-app"}, true}, {[]string{}, true}, {nil, false}} {
		c := clientFromConfig(cfg.StaticClients[i])
		if !slices.Equal(c.SSOSharedWith, want.list) || c.SSOSharedWithSet != want.set {
			t.Errorf("%s: SSOSharedWith %v set %v; want %v %v", c.ID, c.SSOSharedWith, c.SSOSharedWithSet, want.list, want.set)
		}
	}
	if got := settings(&config.Config{}, nil, time.Now, slog.New(slog.DiscardHandler)).SSOSharedWithDefault; got != oidc.SSOShareAll {
		t.Errorf("without a sessions section: %q; want all", got)
	}
}

// TestSSOSharingComposed: with ssoSharedWithDefault none, a login for
// portal-app answers dashboard-app, which it shares with, silently, and
// admin-app not at all.
func TestSSOSharingComposed(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	cfg, err := config.Parse([]byte(`issuer: `+issuer+`
enablePasswordDB: true
staticPasswords:
  - email: admin@example.com
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    userID: admin
oauth2: {skipApprovalScreen: true}
sessions:
  ssoSharedWithDefault: none
staticClients:
  - id: portal-app
    secret: s
    redirectURIs: ["http://127.0.0.1:5555/callback"]
    ssoSharedWith: ["dashboard-app"]
  - id: dashboard-app
    secret: s
    redirectURIs: ["http://127.0.0.1:5555/callback"]
  - id: admin-app
    secret: s
    redirectURIs: ["http://127.0.0.1:5555/callback"]
`), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler), allBackends)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	authURL := func(client, prompt string) string {
		q := url.Values{"client_id": {client}, "redirect_uri": {"http://127.0.0.1:5555/callback"}, "response_type": {"code"}, "scope": {"openid"}}
		if prompt != "" {
			q.Set("prompt", prompt)
		}
		return issuer + "/authorize?" + q.Encode()
	}
	b := oidctest.NewBrowser()
	if loc, err := b.Authorize(authURL("portal-app", ""), "admin@example.com", "password"); err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("login for portal-app: %v %v", loc, err)
	}
	for _, tt := range []struct{ client, want string }{{"dashboard-app", ""}, {"admin-app", oidc.ErrCodeLoginRequired}} {
		loc, err := b.Authorize(authURL(tt.client, "none"), "", "")
		if err != nil {
			t.Fatalf("%s: %v", tt.client, err)
		}
		if got := loc.Query().Get("error"); got != tt.want || (tt.want == "" && loc.Query().Get("code") == "") {
			t.Errorf("%s, prompt=none: error %q code %q; want error %q", tt.client, got, loc.Query().Get("code"), tt.want)
		}
	}
}
