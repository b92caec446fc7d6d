package oidc_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestAllowedConnectors: a client whose allowedConnectors leave out local
// (the one connector there is) has its authorization requests refused,
// back at its proven redirect URI, with the reason logged; connector_id
// may name local only.
func TestAllowedConnectors(t *testing.T) {
	for _, tt := range []struct {
		name        string
		allowed     []string
		connectorID string
		wantError   string // "" : the login form
	}{
		{"no list", nil, "", ""},
		{"local listed", []string{"github", "local"}, "", ""},
		{"local not listed", []string{"github"}, "", "access_denied"},
		{"connector_id local", nil, "local", ""},
		{"connector_id unknown", nil, "github", "invalid_request"},
		{"connector_id local, local not listed", []string{"github"}, "local", "access_denied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &messages{}
			e := newEnv(t, func(c *oidc.Config) { c.Logger = slog.New(logs) })
			e.store.PutClient(oidc.Client{ID: "restricted", SecretHash: oidc.HashSecret("s"), RedirectURIs: []string{redirectURI}, AllowedConnectors: tt.allowed})
			q := authParams()
			q.Set("client_id", "restricted")
			if tt.connectorID != "" {
				q.Set("connector_id", tt.connectorID)
			}
			p := e.get(e.browser(), oidc.PathAuthorize, q)
			if tt.wantError == "" {
				if p.status != http.StatusOK {
					t.Errorf("status %d; want 200 and the login form", p.status)
				}
				return
			}
			loc := mustParse(t, p.header.Get("Location"))
			if p.status != http.StatusFound || loc.Query().Get("error") != tt.wantError || loc.Query().Get("state") != "xyz-state" {
				t.Errorf("%d %s; want a redirect with error=%s and the state", p.status, loc, tt.wantError)
			}
			if got := logs.count("allowedConnectors"); (tt.wantError == "access_denied") != (got > 0) {
				t.Errorf("%d log records naming allowedConnectors", got)
			}
		})
	}
}
