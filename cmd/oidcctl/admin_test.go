package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// ctlConfig writes a config on a fresh DynamoDB Local table.
func ctlConfig(t *testing.T) string {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")
	yaml := fmt.Sprintf("issuer: https://id.example.com\nstorage:\n  type: dynamodb\n  config: {table: ctl-admin-%d, endpoint: %s, createTable: true}\nenablePasswordDB: true\n",
		time.Now().UnixNano(), emulatortest.SharedDynamoDBLocal(t))
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func ctl(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), args, strings.NewReader(stdin), &out)
	return strings.TrimSpace(out.String()), err
}

// TestUserListAndResetPassword: on DynamoDB Local, list shows every user of
// the table and never a hash; reset-password replaces the hash with one of
// the new password read from stdin.
func TestUserListAndResetPassword(t *testing.T) {
	path := ctlConfig(t)
	ada, err := ctl(t, "first password\n", "user", "add", "-config", path, "-email", "ada@example.com", "-username", "ada")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctl(t, "other password\n", "user", "add", "-config", path, "-email", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := ctl(t, "", "user", "disable", "-config", path, "-id", ada); err != nil {
		t.Fatal(err)
	}
	out, err := ctl(t, "", "user", "list", "-config", path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], ada) || !strings.Contains(lines[1], "ada@example.com") ||
		!strings.HasSuffix(lines[1], "true") || !strings.Contains(lines[2], "bob@example.com") {
		t.Errorf("list:\n%s", out)
	}
	if strings.Contains(out, "$2a$") {
		t.Errorf("list shows a hash:\n%s", out)
	}

	if _, err := ctl(t, "a new password\n", "user", "reset-password", "-config", path, "-id", ada); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	st, err := backend.OpenStorage(t.Context(), store.Backends, cfg.Storage, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.User(t.Context(), ada)
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte("a new password")) != nil || !u.Disabled || u.Username != "ada" {
		t.Errorf("after reset: %+v; want the new password, still disabled, the rest unchanged", u)
	}
	if _, err := ctl(t, "x\n", "user", "reset-password", "-config", path, "-id", "nobody"); err == nil {
		t.Error("reset-password of an unknown user succeeded")
	}
}

// TestGrantsRevoke: revoking by user ends exactly that user's families, by
// client exactly that client's; each stays readable (revoked) for the
// access tokens it issued.
func TestGrantsRevoke(t *testing.T) {
	path := ctlConfig(t)
	cfg, err := config.Load(path, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	st, err := backend.OpenStorage(t.Context(), store.Backends, cfg.Storage, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	families := map[string][2]string{"g1": {"alice", "web"}, "g2": {"alice", "cli"}, "g3": {"bob", "web"}, "g4": {"carol", "cli"}}
	for id, sc := range families {
		if err := st.CreateRefreshGrant(t.Context(), oidc.RefreshGrant{ID: id, Subject: sc[0], ClientID: sc[1], Scopes: []string{"openid"},
			AuthTime: now, CreatedAt: now, LastUsed: now, Expiry: now.Add(time.Hour), TokenHash: "h-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	revoked := func() map[string]bool {
		out := map[string]bool{}
		for id := range families {
			g, err := st.RefreshGrant(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = g.Revoked
		}
		return out
	}
	if out, err := ctl(t, "", "grants", "revoke", "-config", path, "-user", "alice"); err != nil || out != "revoked 2 grants" {
		t.Fatalf("revoke -user alice: %q %v", out, err)
	}
	if got := revoked(); !got["g1"] || !got["g2"] || got["g3"] || got["g4"] {
		t.Errorf("after revoking alice's: %v", got)
	}
	if out, err := ctl(t, "", "grants", "revoke", "-config", path, "-client", "web"); err != nil || out != "revoked 1 grants" {
		t.Fatalf("revoke -client web: %q %v", out, err)
	}
	if got := revoked(); !got["g3"] || got["g4"] {
		t.Errorf("after revoking web's: %v", got)
	}
	if _, err := ctl(t, "", "grants", "revoke", "-config", path); err == nil {
		t.Error("revoke without -user or -client succeeded")
	}
}

// TestConfigCheck: a valid file prints ok and its warnings; an invalid one
// fails with its line; nothing is deployed or opened.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("issuer: https://id.example.com\nstorage: {type: memory}\nweb: {https: 0.0.0.0:443}\n"), 0o600)
	out, err := ctl(t, "", "config", "check", "-config", good)
	if err != nil || !strings.Contains(out, "ok: issuer https://id.example.com") || !strings.Contains(out, "warning:") {
		t.Errorf("check good: %q %v", out, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("issuer: https://id.example.com\nstorage: {type: memory}\nnoSuchKey: 1\n"), 0o600)
	if _, err := ctl(t, "", "config", "check", "-config", bad); err == nil || !strings.Contains(err.Error(), "3") {
		t.Errorf("check bad: %v; want an error naming line 3", err)
	}
}
