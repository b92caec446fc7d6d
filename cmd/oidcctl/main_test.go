package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedDynamoDBLocal()
	os.Exit(code)
}

func TestHash(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"hash"}, strings.NewReader("s3cret pass\n"), &out); err != nil {
		t.Fatal(err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(strings.TrimSpace(out.String())), []byte("s3cret pass")); err != nil {
		t.Errorf("hash does not match: %v", err)
	}
	if err := run(t.Context(), []string{"hash"}, strings.NewReader(""), &out); err == nil {
		t.Errorf("an empty password was hashed")
	}
}

// TestUserLifecycle adds a user to DynamoDB Local with oidcctl, signs in as
// that user through the provider built from the same config, then disables
// and deletes the user.
func TestUserLifecycle(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	yaml := fmt.Sprintf(`issuer: %s
storage:
  type: dynamodb
  config: {table: ctl-%d, endpoint: %s, createTable: true}
enablePasswordDB: true
oauth2: {skipApprovalScreen: true}
staticClients:
  - id: web
    secret: s
    redirectURIs: ["http://127.0.0.1:5555/callback"]
`, issuer, time.Now().UnixNano(), emulatortest.SharedDynamoDBLocal(t))
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
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
	defer srv.Close()

	ctl := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"user"}, args...), strings.NewReader(stdin), &out)
		return strings.TrimSpace(out.String()), err
	}
	sub, err := ctl("hunter2 hunter2\n", "add", "-config", path, "-email", "grace@example.com", "-username", "grace", "-groups", "ops,dev")
	if err != nil {
		t.Fatalf("user add: %v", err)
	}
	if _, err := ctl("x\n", "add", "-config", path, "-email", "GRACE@example.com"); err == nil {
		t.Errorf("a second user with the same email (another case) was added")
	}
	login := func() *url.URL {
		params := url.Values{"client_id": {"web"}, "redirect_uri": {"http://127.0.0.1:5555/callback"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
		loc, err := oidctest.NewBrowser().Authorize(issuer+"/authorize?"+params.Encode(), "grace", "hunter2 hunter2")
		if err != nil {
			return nil
		}
		return loc
	}
	if loc := login(); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in as the added user: %v", loc)
	}
	if _, err := ctl("", "disable", "-config", path, "-id", sub); err != nil {
		t.Fatalf("user disable: %v", err)
	}
	if loc := login(); loc != nil {
		t.Errorf("a disabled user signed in: %v", loc)
	}
	if _, err := ctl("", "delete", "-config", path, "-id", sub); err != nil {
		t.Fatalf("user delete: %v", err)
	}
	if _, err := ctl("", "enable", "-config", path, "-id", sub); err == nil {
		t.Errorf("enabling a deleted user succeeded")
	}
}
