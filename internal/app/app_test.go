package app

import (
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connectors"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestEnablePasswordDB: Dex's enablePasswordDB turns password login on and
// off; with it off nobody signs in.
func TestEnablePasswordDB(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		srv := httptest.NewUnstartedServer(nil)
		issuer := "http://" + srv.Listener.Addr().String()
		cfg, err := config.Parse([]byte(`issuer: `+issuer+`
oauth2: {skipApprovalScreen: true}
staticClients:
  - id: web
    secret: s
    redirectURIs: ["http://127.0.0.1:5555/callback"]
`), "c.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		// Set after parsing: the loader refuses staticPasswords without
		// enablePasswordDB, and this test is about the provider.
		cfg.EnablePasswordDB = enabled
		cfg.StaticPasswords = []config.Password{{User: oidc.User{Email: "admin@example.com", Subject: "admin"},
			Hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"}} // "password"
		p, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler), allBackends)
		if err != nil {
			t.Fatal(err)
		}
		srv.Config.Handler = p.Handler()
		srv.Start()
		params := url.Values{"client_id": {"web"}, "redirect_uri": {"http://127.0.0.1:5555/callback"}, "response_type": {"code"}, "scope": {"openid"}}
		loc, err := oidctest.NewBrowser().Authorize(issuer+"/authorize?"+params.Encode(), "admin@example.com", "password")
		signedIn := err == nil && loc.Query().Get("code") != ""
		if signedIn != enabled {
			t.Errorf("enablePasswordDB %v: signed in = %v (%v)", enabled, signedIn, err)
		}
		srv.Close()
	}
}

// TestNewBackends: the storage and signer are opened from the tables
// passed in, and problems with both sections are reported together.
func TestNewBackends(t *testing.T) {
	cfg, err := config.Parse([]byte(`issuer: https://id.example.com
storage:
  type: memory
  config: {table: x}
signer:
  type: kms
`), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(t.Context(), cfg, slog.New(slog.DiscardHandler), allBackends)
	want := "c.yaml:4: storage.config.table: unknown key\nc.yaml:5: signer.config.keys: at least one KMS key id, ARN or alias is required (the first signs)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v; want:\n%s", err, want)
	}
	_, err = New(t.Context(), cfg, slog.New(slog.DiscardHandler), Backends{})
	want = `c.yaml:3: storage.type: unknown storage type "memory"` + "\n" + `c.yaml:6: signer.type: unknown signer type "kms"`
	if err == nil || err.Error() != want {
		t.Errorf("empty tables: got %v; want:\n%s", err, want)
	}
}

// allBackends are every backend table, as the local server and the
// token, userinfo and authorize functions pass them.
var allBackends = Backends{Storage: store.Backends, Signer: signer.Backends, Connectors: connectors.Types, Pages: oidc.HTMLPages()}
