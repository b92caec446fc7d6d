package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestClientsLifecycle creates a client in DynamoDB Local with oidcctl,
// signs in with it through a provider built from the same config, rotates
// its secret, disables and deletes it: each change is seen by a provider
// that starts afresh (another container; a running one sees it within
// oidc.ClientCacheTTL, which the client contract suite proves with its
// clock).
func TestClientsLifecycle(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")
	const redirect = "http://127.0.0.1:5555/callback"
	path := filepath.Join(t.TempDir(), "config.yaml")
	var cfgText string
	start := func() string {
		srv := httptest.NewUnstartedServer(nil)
		issuer := "http://" + srv.Listener.Addr().String()
		if cfgText == "" {
			cfgText = fmt.Sprintf(`storage:
  type: dynamodb
  config: {table: ctl-clients-%d, endpoint: %s, createTable: true}
enablePasswordDB: true
oauth2: {skipApprovalScreen: true}
staticClients:
  - id: web
    secret: s
    redirectURIs: [%q]
staticPasswords:
  - email: admin@example.com
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
`, time.Now().UnixNano(), emulatortest.SharedDynamoDBLocal(t), redirect)
		}
		if err := os.WriteFile(path, []byte("issuer: "+issuer+"\n"+cfgText), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		provider, err := app.New(t.Context(), cfg, slog.New(slog.DiscardHandler), app.Backends{Storage: store.Backends, Signer: signer.Backends})
		if err != nil {
			t.Fatal(err)
		}
		srv.Config.Handler = provider.Handler()
		srv.Start()
		t.Cleanup(srv.Close)
		return issuer
	}
	ctl := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"clients"}, append(args[:1:1], append([]string{"-config", path}, args[1:]...)...)...), strings.NewReader(""), &out)
		return out.String(), err
	}
	// signIn runs the code flow as the client; it reports whether the
	// token endpoint accepted the client's credentials.
	signIn := func(issuer, id, secret string) bool {
		params := url.Values{"client_id": {id}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
		loc, err := oidctest.NewBrowser().Authorize(issuer+"/authorize?"+params.Encode(), "admin", "password")
		if err != nil || loc.Query().Get("code") == "" {
			return false
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect}}
		req, _ := http.NewRequest("POST", issuer+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode == 200 && body["id_token"] != nil
	}
	issuer := start()
	if _, err := ctl("create", "-id", "web", "-redirect-uris", redirect); err == nil {
		t.Fatal("created a stored client with a static client's id")
	}
	if _, err := ctl("create", "-redirect-uris", "http://app.example/cb"); err == nil {
		t.Fatal("created a client with an http redirect URI on a public host")
	}
	out, err := ctl("create", "-name", "Operator App", "-redirect-uris", redirect)
	if err != nil {
		t.Fatal(err)
	}
	var id, secret string
	fmt.Sscanf(out, "client_id: %s\nclient_secret: %s\n", &id, &secret)
	if id == "" || secret == "" {
		t.Fatalf("create printed %q", out)
	}
	if out, _ := ctl("list"); !strings.Contains(out, id) || !strings.Contains(out, "Operator App") {
		t.Fatalf("list = %q", out)
	}
	if out, _ := ctl("show", "-id", id); strings.Contains(out, secret) || !strings.Contains(out, redirect) {
		t.Fatalf("show = %q", out)
	}
	if !signIn(issuer, id, secret) {
		t.Fatal("the created client could not sign in")
	}
	out, err = ctl("rotate-secret", "-id", id)
	newSecret := strings.TrimPrefix(strings.TrimSpace(out), "client_secret: ")
	if err != nil || newSecret == "" || newSecret == secret {
		t.Fatalf("rotate-secret = %q, %v", out, err)
	}
	issuer = start()
	if signIn(issuer, id, secret) || !signIn(issuer, id, newSecret) {
		t.Fatal("after rotate-secret the old secret works or the new one does not")
	}
	if _, err := ctl("disable", "-id", id); err != nil {
		t.Fatal(err)
	}
	if issuer = start(); signIn(issuer, id, newSecret) {
		t.Fatal("a disabled client signed in")
	}
	if _, err := ctl("enable", "-id", id); err != nil {
		t.Fatal(err)
	}
	if issuer = start(); !signIn(issuer, id, newSecret) {
		t.Fatal("an enabled client could not sign in")
	}
	if _, err := ctl("delete", "-id", id); err != nil {
		t.Fatal(err)
	}
	if issuer = start(); signIn(issuer, id, newSecret) {
		t.Fatal("a deleted client signed in")
	}
	if _, err := ctl("show", "-id", id); err == nil {
		t.Fatal("show found a deleted client")
	}
}
