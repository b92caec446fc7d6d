package federation

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/serverless-oidc/op/e2e/e2etest"
	"github.com/serverless-oidc/op/internal/emulator"
)

// npm's oidc-provider (panva's, certified by the OpenID Foundation) is the
// upstream no code of this repository wrote: testdata/oidc-provider.mjs
// starts it with Node from tools/node_modules (`make tools`).

const (
	nodeInstallHint  = "apt-get install -y nodejs npm"
	toolsInstallHint = "make tools (or: npm ci --prefix tools, from the repository root)"
	nodeStartTimeout = 30 * time.Second
)

// nodeAccount is a user of oidc-provider: the claims its findAccount
// returns for the login of the same name.
type nodeAccount struct {
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
}

// nodeOP is a running oidc-provider.
type nodeOP struct {
	Issuer   string
	accounts string // the accounts file findAccount reads at every lookup
	log      string // the server errors it reports
}

// startNodeOP starts oidc-provider with one confidential client
// (client_secret_basic, code and refresh_token grants) whose only
// redirect URI is redirectURI, and the given accounts. It stops at cleanup.
func startNodeOP(t *testing.T, clientID, clientSecret, redirectURI string, accounts map[string]nodeAccount) *nodeOP {
	t.Helper()
	root := e2etest.RepoRoot(t)
	tools := filepath.Join(root, "tools")
	if _, err := os.Stat(filepath.Join(tools, "node_modules", "oidc-provider", "package.json")); err != nil {
		t.Fatalf("npm's oidc-provider is not installed under %s (%v); run `%s`", tools, err, toolsInstallHint)
	}
	dir := t.TempDir()
	op := &nodeOP{accounts: filepath.Join(dir, "accounts.json"), log: filepath.Join(dir, "server-errors.log")}
	op.setAccounts(t, accounts)
	settings := filepath.Join(dir, "settings.json")
	writeJSON(t, settings, map[string]any{
		"clients": []map[string]any{{
			"client_id": clientID, "client_secret": clientSecret, "redirect_uris": []string{redirectURI},
			"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
			"token_endpoint_auth_method": "client_secret_basic",
		}},
		"accountsFile": op.accounts,
		"errorLog":     op.log,
		"cookieKey":    randomString(t),
	})
	script, err := filepath.Abs(filepath.Join("testdata", "oidc-provider.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := emulator.Launch(emulator.Spec{
		Name:         "oidc-provider",
		Command:      "node",
		InstallHint:  nodeInstallHint,
		Args:         func(int) []string { return []string{script, tools, settings} },
		Announce:     regexp.MustCompile(`oidc-provider listening on (http://127\.0\.0\.1:\d+)`),
		Ready:        discoveryReady,
		StartTimeout: nodeStartTimeout,
	})
	if err != nil {
		t.Fatalf("start oidc-provider: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop oidc-provider: %v", err)
		}
		if b, _ := os.ReadFile(op.log); len(b) > 0 {
			t.Logf("oidc-provider server errors:\n%s", b)
		}
	})
	op.Issuer = p.Endpoint
	t.Logf("oidc-provider: issuer %s (started in %v)", op.Issuer, p.Startup.Round(time.Millisecond))
	return op
}

// setAccounts replaces the accounts oidc-provider knows. The file is
// replaced by a rename, so that a concurrent lookup reads the old or the
// new file, never half of one.
func (op *nodeOP) setAccounts(t *testing.T, accounts map[string]nodeAccount) {
	t.Helper()
	tmp := op.accounts + ".tmp"
	writeJSON(t, tmp, accounts)
	if err := os.Rename(tmp, op.accounts); err != nil {
		t.Fatal(err)
	}
}

// discoveryReady succeeds once the issuer serves its discovery document.
func discoveryReady(client *http.Client, issuer string) error {
	resp, err := client.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("discovery answered %s", resp.Status)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return err
	}
	if doc.Issuer != issuer {
		return fmt.Errorf("discovery names issuer %q", doc.Issuer)
	}
	return nil
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
