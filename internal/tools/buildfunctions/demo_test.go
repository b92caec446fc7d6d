package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestDemoConfigRefused: building for Lambda with a configuration that holds
// a demo credential fails, before compiling anything, with the reason on
// stdout (sam build shows make's stdout); nothing is written.
func TestDemoConfigRefused(t *testing.T) {
	for _, example := range []string{"config.dev.yaml", "config.dynamodb.yaml"} {
		t.Run(example, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "artifacts")
			var stdout, stderr bytes.Buffer
			err := run(options{config: filepath.Join("..", "..", "..", "examples", example), function: oidc.FunctionToken,
				dir: dir, arch: "arm64"}, &stdout, &stderr)
			if !errors.Is(err, errDemoConfig) {
				t.Fatalf("run = %v; want errDemoConfig", err)
			}
			if !strings.Contains(stdout.String(), "public demo credentials") || !strings.Contains(stdout.String(), "ALLOW_DEMO_CONFIG") {
				t.Errorf("stdout does not give the reason and the way out:\n%s", stdout.String())
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s written (stat: %v); want nothing built", dir, err)
			}
		})
	}
	// The same values anywhere in another file are refused too.
	other := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(other, []byte("staticPasswords:\n  - hash: \""+demoCredentials[1]+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run(options{config: other, out: t.TempDir(), arch: "arm64"}, &stdout, &stdout); !errors.Is(err, errDemoConfig) {
		t.Errorf("renamed demo config: run = %v; want errDemoConfig", err)
	}
}

// TestDemoCredentialsCoverExamples: every client secret and password hash
// of examples/*.yaml is in demoCredentials, so a new example cannot ship a
// credential the guard does not know.
func TestDemoCredentialsCoverExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	re := regexp.MustCompile(`(?m)^\s*(?:-\s*)?(?:secret|hash|clientSecret):\s*"?([^"\s#]+)"?`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(data, -1) {
			if v := string(m[1]); !slices.Contains(demoCredentials, v) {
				t.Errorf("%s: credential %q is not in demoCredentials", f, v)
			}
		}
	}
}
