package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"
	"text/template"

	"golang.org/x/crypto/bcrypt"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
)

// The one user of the password database.
const (
	userEmail    = "admin@example.com"
	userPassword = "password"
	userID       = "08a8684b-db88-4b73-90a9-3cd1661f5466"
)

// client is a public browser client of the test provider.
type client struct {
	ID             string
	Name           string // shown on the login and consent pages
	RedirectURIs   []string
	AllowedOrigins []string // per-client CORS origins (staticClients[].allowedOrigins)
	// PostLogoutRedirectURIs are where RP-Initiated Logout may return
	// (staticClients[].postLogoutRedirectURIs); none when empty.
	PostLogoutRedirectURIs []string
	// IDTokenSigningAlg and UserInfoSigningAlg are the client's algorithms
	// (staticClients[].idTokenSigningAlg, userInfoSigningAlg); "": none.
	IDTokenSigningAlg, UserInfoSigningAlg string
}

// providerConfig is the YAML the provider is built from, in the format a
// user writes. web.allowedOrigins stays empty: each SPA origin is allowed
// through its client's allowedOrigins only.
var providerConfig = template.Must(template.New("config").Funcs(template.FuncMap{
	"json": func(v any) (string, error) { b, err := json.Marshal(v); return string(b), err },
}).Parse(`issuer: {{json .Issuer}}
storage:
  type: memory
signer:
  type: local
enablePasswordDB: true
staticPasswords:
  - email: {{json .Email}}
    hash: {{json .Hash}}
    username: admin
    userID: {{json .UserID}}
    name: Admin
staticClients:
{{- range .Clients}}
  - id: {{json .ID}}
    name: {{json .Name}}
    public: true
    redirectURIs: {{json .RedirectURIs}}
    allowedOrigins: {{json .AllowedOrigins}}
{{- with .PostLogoutRedirectURIs}}
    postLogoutRedirectURIs: {{json .}}
{{- end}}
{{- with .IDTokenSigningAlg}}
    idTokenSigningAlg: {{json .}}
{{- end}}
{{- with .UserInfoSigningAlg}}
    userInfoSigningAlg: {{json .}}
{{- end}}
{{- end}}
oauth2:
  skipApprovalScreen: false
logger:
  level: info
`))

// provider is the OpenID Provider under test, serving on a loopback port.
type provider struct {
	Issuer string
}

// startProvider builds the provider from a YAML config with app.New, as the
// local server does, and serves provider.Handler() on 127.0.0.1. Its log
// goes to the test output.
func startProvider(t *testing.T, clients ...client) *provider {
	t.Helper()
	return startProviderWith(t, nil, clients...)
}

// startProviderWith is startProvider with the YAML that extra returns, given
// the issuer, appended to the configuration (top-level sections such as
// frontend).
func startProviderWith(t *testing.T, extra func(issuer string) string, clients ...client) *provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil) // listens on 127.0.0.1:0 already
	issuer := "http://" + srv.Listener.Addr().String()
	hash, err := bcrypt.GenerateFromPassword([]byte(userPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	var yaml bytes.Buffer
	if err := providerConfig.Execute(&yaml, map[string]any{
		"Issuer": issuer, "Email": userEmail, "Hash": string(hash), "UserID": userID, "Clients": clients,
	}); err != nil {
		t.Fatal(err)
	}
	if extra != nil {
		yaml.WriteString(extra(issuer))
	}
	cfg, err := config.Parse(yaml.Bytes(), "browser-test.yaml", nil)
	if err != nil {
		t.Fatalf("config.Parse:\n%v\n%s", err, yaml.String())
	}
	logger := app.NewLogger(cfg.Logger, t.Output()).With("component", "provider")
	p, err := app.New(context.Background(), cfg, logger, app.Backends{Storage: store.Backends, Signer: signer.Backends})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	srv.Config.Handler = p.Handler()
	srv.Config.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	srv.Start()
	t.Cleanup(srv.Close)
	t.Logf("provider: issuer %s", issuer)
	return &provider{Issuer: issuer}
}
