// Package e2etest is what the end-to-end tests share: a provider served
// from a YAML configuration through the same composition as `make run`,
// and Node scripts run against it with the npm packages of tools/ (a
// certified relying party, openid-client).
package e2etest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
)

// Serve loads yaml as the provider's configuration file and serves the
// provider app.New builds from it on srv (unstarted; started here and
// closed at cleanup), with logger (nil discards).
func Serve(t testing.TB, srv *httptest.Server, yaml string, logger *slog.Logger) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p, err := app.New(t.Context(), cfg, logger, app.Backends{Storage: store.Backends, Signer: signer.Backends})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
}

// Node runs the Node script testdata/<script> (of the calling test's
// package) with the tools directory and args as its arguments, within 30
// seconds, and decodes the JSON it prints into out. A missing npm package
// fails the test: `make tools` installs them.
func Node(t testing.TB, script string, out any, args ...string) {
	t.Helper()
	tools := filepath.Join(RepoRoot(t), "tools")
	if _, err := os.Stat(filepath.Join(tools, "node_modules", "openid-client", "package.json")); err != nil {
		t.Fatalf("npm's openid-client is not installed under %s; run `make tools`", tools)
	}
	path, _ := filepath.Abs(filepath.Join("testdata", script))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{path, tools}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s %v: %v\n%s", script, args, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node %s %v printed %q: %v", script, args, stdout.String(), err)
	}
}

// RepoRoot is the directory of the module's go.mod, above the working
// directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
