package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// webDir writes files (path → content) under a new directory and returns
// it.
func webDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// parseIn parses data as dir/config.yaml, so that a relative frontend.dir
// resolves against dir.
func parseIn(dir string, data []byte) (*Config, error) {
	return Parse(data, filepath.Join(dir, "config.yaml"), nil)
}

func TestFrontendDir(t *testing.T) {
	root := webDir(t, map[string]string{
		"web/static/main.css":         "body{}",
		"web/static/img/logo.svg":     "<svg/>",
		"web/static/.hidden":          "x",
		"web/static/notes.txt":        "hello",
		"web/themes/dark/logo.png":    "PNG",
		"web/themes/dark/styles.css":  "b{}",
		"web/themes/light/logo.png":   "light PNG",
		"web/templates/login.html":    "<html>",
		"web/robots.txt":              "not served",
		"web/themes/dark/favicon.ico": "ICO",
	})
	c, err := parseIn(root, yml("issuer: https://id.example.com",
		"frontend:",
		"  dir: web",
		"  theme: dark",
		"  logoURL: theme/logo.png"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/static/main.css":     "text/css; charset=utf-8",
		"/static/img/logo.svg": "image/svg+xml",
		"/static/notes.txt":    "application/octet-stream",
		"/theme/logo.png":      "image/png",
		"/theme/styles.css":    "text/css; charset=utf-8",
		"/theme/favicon.ico":   "image/x-icon",
	}
	if len(c.Frontend.Files) != len(want) {
		t.Errorf("files %v; want %v", keys(c.Frontend.Files), want)
	}
	for p, ct := range want {
		if f, ok := c.Frontend.Files[p]; !ok || f.ContentType != ct {
			t.Errorf("%s: %+v, %v; want content type %q", p, f.ContentType, ok, ct)
		}
	}
	if got := string(c.Frontend.Files["/theme/logo.png"].Body); got != "PNG" {
		t.Errorf("/theme/logo.png = %q; want the dark theme's", got)
	}
	if len(c.Warnings) != 1 || c.Warnings[0].String() != filepath.Join(root, "config.yaml")+`:3: frontend.dir: templates/*.html: Dex's HTML templates are not used; the built-in pages are` {
		t.Errorf("warnings %v; want the templates warning", c.Warnings)
	}

	// Absolute, without templates: no warning; the light theme by default.
	c, err = Parse(yml("issuer: https://id.example.com", "frontend:", "  dir: "+filepath.Join(root, "web")), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Frontend.Files["/theme/logo.png"].Body) != "light PNG" {
		t.Errorf("default theme: /theme/logo.png = %q", c.Frontend.Files["/theme/logo.png"].Body)
	}
}

func keys(m map[string]oidc.StaticFile) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestFrontendDirErrors(t *testing.T) {
	root := webDir(t, map[string]string{"web/static/a.png": "A", "web/themes/light/logo.png": "L"})
	big := webDir(t, map[string]string{"static/big.png": strings.Repeat("x", MaxFrontendBytes+1)})
	many := map[string]string{}
	for i := range MaxFrontendFiles + 1 {
		many["static/"+strings.Repeat("a", i%7+1)+"/"+string(rune('a'+i%26))+strings.Repeat("b", i/26)+".png"] = "x"
	}
	manyDir := webDir(t, many)
	outside := webDir(t, map[string]string{"secret.png": "S"})
	links := webDir(t, map[string]string{"static/ok.png": "x"})
	if err := os.Symlink(filepath.Join(outside, "secret.png"), filepath.Join(links, "static", "secret.png")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, logo, want string
	}{
		{"missing", "absent", "", `config.yaml:3: frontend.dir: "absent": no such file or directory`},
		{"a file", "web/static/a.png", "", `config.yaml:3: frontend.dir: "web/static/a.png": not a directory`},
		{"too big", big, "", "more than 5 MiB"},
		{"too many", manyDir, "", "more than 300 files"},
		{"symlink out", links, "", `static/secret.png: a symbolic link out of the directory`},
		{"logo missing", "web", "theme/absent.png", `config.yaml:4: frontend.logoURL: "theme/absent.png": no such file in frontend.dir`},
		{"logo elsewhere", "web", "img/logo.png", `config.yaml:4: frontend.logoURL: "img/logo.png": must be an https URL, or a path under static/ or theme/`},
		{"logo traversal", "web", "theme/../../etc/passwd", `must be an https URL, or a path under static/ or theme/`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := []string{"issuer: https://id.example.com", "frontend:", "  dir: " + tt.dir}
			if tt.logo != "" {
				lines = append(lines, "  logoURL: "+tt.logo)
			}
			_, err := parseIn(root, yml(lines...))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want %q", err, tt.want)
			}
		})
	}
}

// TestFrontendDirOnlyAuthorize: only the authorize function reads (and
// needs) frontend.dir; it is bundled into its zip alone.
func TestFrontendDirOnlyAuthorize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	data := yml("issuer: https://id.example.com", "frontend:", "  dir: web", "  logoURL: theme/logo.png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{EnvConfig: path})
	if _, err := FromEnvironmentFor(oidc.FunctionAuthorize, getenv); err == nil || !strings.Contains(err.Error(), "frontend.dir") {
		t.Errorf("authorize without the dir: err = %v; want a frontend.dir error", err)
	}
	c, err := FromEnvironmentFor(oidc.FunctionToken, getenv)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if c.Frontend.Files != nil || len(c.Warnings) != 0 {
		t.Errorf("token: files %v, warnings %v; want none", c.Frontend.Files, c.Warnings)
	}
}
