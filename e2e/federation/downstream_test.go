package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"text/template"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connectors"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// upstreamConnector is one connectors[] entry of the downstream's config:
// a type oidc connector, in Dex's keys.
type upstreamConnector struct {
	ID, Name               string
	Issuer                 string
	ClientID, ClientSecret string
	GetUserInfo            bool
}

// downstreamConfig is the YAML a user of the provider writes to federate
// two upstreams, Dex's keys throughout; the password database stays on.
var downstreamConfig = template.Must(template.New("config").Funcs(template.FuncMap{
	"json": func(v any) (string, error) { b, err := json.Marshal(v); return string(b), err },
}).Parse(`issuer: {{json .Issuer}}
storage:
  type: memory
signer:
  type: local
enablePasswordDB: true
staticClients:
  - id: {{json .RP.ID}}
    name: {{json .RP.Name}}
    secret: {{json .RP.Secret}}
    redirectURIs: [{{json .RP.RedirectURI}}]
connectors:
{{- range .Connectors}}
  - type: oidc
    id: {{json .ID}}
    name: {{json .Name}}
    config:
      issuer: {{json .Issuer}}
      clientID: {{json .ClientID}}
      clientSecret: {{json .ClientSecret}}
      redirectURI: {{json $.Callback}}
      scopes: [profile, email, groups]
      insecureEnableGroups: true
{{- if .GetUserInfo}}
      getUserInfo: true
{{- end}}
{{- end}}
oauth2:
  skipApprovalScreen: false
expiry:
  refreshTokens:
    validIfNotUsedFor: 24h
logger:
  level: info
`))

// startDownstream builds the provider under test as `make run` does:
// config.Load of a YAML file (written into t.TempDir()) and app.New with
// the storage, signer and connector tables of the binaries (without the
// Secrets Manager reader: the config has no secretsmanager: value), then
// serves its handler on srv, whose listener fixed the issuer. Its log goes
// to the test output.
func startDownstream(t *testing.T, srv *httptest.Server, rp rpClient, conns ...upstreamConnector) {
	t.Helper()
	issuer := "http://" + srv.Listener.Addr().String()
	var yaml bytes.Buffer
	err := downstreamConfig.Execute(&yaml, map[string]any{
		"Issuer": issuer, "Callback": issuer + oidc.PathCallback, "RP": rp, "Connectors": conns,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, yaml.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatalf("config.Load:\n%v\n%s", err, yaml.String())
	}
	logger := app.NewLogger(cfg.Logger, t.Output()).With("component", "downstream")
	p, err := app.New(context.Background(), cfg, logger,
		app.Backends{Storage: store.Backends, Signer: signer.Backends, Connectors: connectors.Types})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	srv.Config.Handler = p.Handler()
	srv.Config.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	srv.Start()
	t.Cleanup(srv.Close)
	t.Logf("downstream: issuer %s", issuer)
}
