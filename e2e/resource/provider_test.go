package resource

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/serverless-oidc/op/e2e/e2etest"
	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
)

const (
	clientID     = "node-rp"
	clientSecret = "bm9kZS1ycC1zZWNyZXQtZm9yLXRoZS1yZXNvdXJjZS10ZXN0"
	redirectURI  = "http://127.0.0.1:5555/callback"
	userEmail    = "admin@example.com"
	userPassword = "password"
	userID       = "08a8684b-db88-4b73-90a9-3cd1661f5466"
	ordersAPI    = "https://api.example.com"
	reportsAPI   = "https://reports.example.com"
	auditAPI     = "https://audit.example.com" // allowed to the client, never asked for
	apiClient    = "orders-api"                // the orders API's own credentials, for introspection
	apiSecret    = "b3JkZXJzLWFwaS1zZWNyZXQtZm9yLWludHJvc3BlY3Rpb24"
)

// startProvider serves, on a loopback port, the provider of a config with
// the given storage section, one confidential client (clientID) and three
// APIs allowed to it: ordersAPI (two scopes, 10 minute tokens, ES256),
// reportsAPI (one scope, the default lifetime and algorithm) and auditAPI,
// which the tests never ask for. The orders API introspects its tokens
// with a confidential client of its own (apiClient).
func startProvider(t *testing.T, storage string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	yaml := fmt.Sprintf(`issuer: %[1]s
%[2]s
enablePasswordDB: true
oauth2: {skipApprovalScreen: true}
staticPasswords:
  - email: %[3]s
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: %[4]s
staticClients:
  - id: %[5]s
    secret: %[6]s
    name: Node RP
    redirectURIs: [%[7]s]
  - id: %[11]s
    secret: %[12]s
    name: Orders API
    redirectURIs: [%[7]s]
resourceServers:
  - id: %[8]s
    name: Orders API
    scopes:
      - {name: "orders:read", description: Read your orders}
      - {name: "orders:write", description: Place orders for you}
    allowedClients: [%[5]s]
    introspectionClients: [%[11]s]
    accessTokenTTL: 10m
    signingAlg: ES256
  - id: %[9]s
    name: Reports API
    scopes:
      - {name: "reports:read", description: Read your reports}
    allowedClients: [%[5]s]
  - id: %[10]s
    name: Audit API
    scopes:
      - {name: "audit:read", description: Read the audit trail}
    allowedClients: [%[5]s]
`, issuer, storage, userEmail, userID, clientID, clientSecret, redirectURI, ordersAPI, reportsAPI, auditAPI, apiClient, apiSecret)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, os.Getenv)
	if err != nil {
		t.Fatalf("config.Load: %v\n%s", err, yaml)
	}
	logger := app.NewLogger(cfg.Logger, t.Output()).With("component", "provider")
	p, err := app.New(t.Context(), cfg, logger, app.Backends{Storage: store.Backends, Signer: signer.Backends})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Config.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// node runs testdata/rp.cjs with args and decodes what it prints into out.
func node(t *testing.T, out any, args ...string) { e2etest.Node(t, "rp.cjs", out, args...) }
