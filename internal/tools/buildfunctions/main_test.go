package main

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestWriteZip(t *testing.T) {
	dir := t.TempDir()
	bootstrap := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(bootstrap, []byte("\x7fELF not really"), 0o700); err != nil {
		t.Fatal(err)
	}
	config := []byte("issuer: https://id.example.com\n")
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	for _, p := range []string{a, b} {
		if err := writeZip(p, bootstrap, config); err != nil {
			t.Fatal(err)
		}
	}
	za, _ := os.ReadFile(a)
	zb, _ := os.ReadFile(b)
	if !bytes.Equal(za, zb) {
		t.Error("two zips of the same files differ; want reproducible zips")
	}

	zr, err := zip.OpenReader(a)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	want := []struct {
		name string
		mode os.FileMode
		body string
	}{
		{"bootstrap", 0o755, "\x7fELF not really"},
		{"config.yaml", 0o644, string(config)},
	}
	if len(zr.File) != len(want) {
		t.Fatalf("zip has %d entries; want %d", len(zr.File), len(want))
	}
	for i, w := range want {
		f := zr.File[i]
		if f.Name != w.name {
			t.Errorf("entry %d = %q; want %q", i, f.Name, w.name)
		}
		if got := f.Mode(); got != w.mode {
			t.Errorf("%s: mode %v; want %v", f.Name, got, w.mode)
		}
		if got := f.CreatorVersion >> 8; got != 3 {
			t.Errorf("%s: creator OS %d; want 3 (Unix), or Lambda ignores the mode", f.Name, got)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		if string(body) != w.body {
			t.Errorf("%s: body %q; want %q", f.Name, body, w.body)
		}
	}
}

func TestRunRejects(t *testing.T) {
	config := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(config, []byte("issuer: https://id.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	absDir := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(absDir, []byte("issuer: https://id.example.com\nfrontend:\n  dir: /srv/dex/web\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    options
		want string
	}{
		{"dir without function", options{config: config, dir: t.TempDir(), arch: "arm64"}, "-dir needs -function"},
		{"unknown function", options{config: config, function: "tokens", arch: "arm64"}, `-function "tokens"`},
		{"unknown arch", options{config: config, arch: "386"}, `-arch "386"`},
		{"missing config", options{config: config + ".absent", arch: "arm64"}, "-config"},
		{"absolute frontend.dir", options{config: absDir, arch: "arm64"}, "frontend.dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.o, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestBuildForLambda cross-compiles one function as SAM's makefile builder
// would and checks the result is what provided.al2023 on arm64 executes: a
// static, stripped linux/arm64 ELF named bootstrap, with the config beside
// it.
func TestBuildForLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles a function")
	}
	// A demo credential, explicitly allowed: built, with a warning on
	// stdout (which sam build shows) and stderr.
	config := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(config, []byte("issuer: https://id.example.com\n# "+demoCredentials[0]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "artifacts")
	var stdout, stderr bytes.Buffer
	if err := run(options{config: config, function: oidc.FunctionJWKS, dir: dir, arch: "arm64", allowDemo: true}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "public") || !strings.Contains(stdout.String(), "WARNING") {
		t.Errorf("no warning for an allowed demo config; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "jwks") || !strings.Contains(stdout.String(), "MiB") {
		t.Errorf("no size report; stdout:\n%s", stdout.String())
	}
	bootstrap := filepath.Join(dir, "bootstrap")
	st, err := os.Stat(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o111 == 0 {
		t.Errorf("bootstrap mode %v is not executable", st.Mode())
	}
	f, err := elf.Open(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("machine %v, OS ABI %v; want EM_AARCH64 for Linux", f.Machine, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap is dynamically linked; want CGO_ENABLED=0")
		}
	}
	if f.Section(".symtab") != nil {
		t.Error("bootstrap has a symbol table; want -ldflags -s")
	}
	if got, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err != nil || !strings.Contains(string(got), "id.example.com") {
		t.Errorf("config.yaml = %q, %v", got, err)
	}
}

// TestFrontendAssets: frontend.dir's static/ and themes/ files are bundled
// with the authorize function alone, at the same path relative to
// config.yaml, in its zip and in its -dir artifact; Dex's templates and
// hidden files are not.
func TestFrontendAssets(t *testing.T) {
	src := t.TempDir()
	for name, body := range map[string]string{
		"web/static/main.css":        "body{}",
		"web/themes/light/logo.png":  "PNG",
		"web/themes/dark/styles.css": "b{}",
		"web/templates/login.html":   "<html>",
		"web/static/.DS_Store":       "x",
	} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := []byte("issuer: https://id.example.com\nfrontend:\n  dir: web\n")
	cfgPath := filepath.Join(src, "config.yaml")
	assets, err := frontendAssets(cfgPath, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range assets {
		names = append(names, a.name)
	}
	// Only what the function serves: static/ and the configured theme
	// (light, the default); not the dark theme, nor templates or hidden files.
	want := []string{"web/static/main.css", "web/themes/light/logo.png"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("assets %q; want %q", names, want)
	}
	if got := assetsOf(oidc.FunctionToken, assets); got != nil {
		t.Errorf("token gets assets %v; want none", got)
	}

	dir := t.TempDir()
	bootstrap := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(bootstrap, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	z := filepath.Join(dir, "authorize.zip")
	if err := writeZip(z, bootstrap, cfg, assetsOf(oidc.FunctionAuthorize, assets)...); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(z)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		got[f.Name] = string(b)
		if f.Name != "bootstrap" && f.Mode() != 0o644 {
			t.Errorf("%s: mode %v; want 0644", f.Name, f.Mode())
		}
	}
	if len(got) != 2+len(want) || got["web/themes/light/logo.png"] != "PNG" || got["config.yaml"] != string(cfg) {
		t.Errorf("zip holds %v", got)
	}

	// The -dir artifact: the path resolves beside config.yaml as it did
	// beside the source configuration.
	art := t.TempDir()
	if err := writeAssets(art, assets); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(art, "web", "static", "main.css")); err != nil || string(b) != "body{}" {
		t.Errorf("artifact web/static/main.css = %q, %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(art, bundledConfig), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(filepath.Join(art, bundledConfig), nil)
	if err != nil {
		t.Fatalf("the artifact's config does not load: %v", err)
	}
	if f := c.Frontend.Files["/static/main.css"]; string(f.Body) != "body{}" {
		t.Errorf("the artifact's config serves /static/main.css = %q", f.Body)
	}

	for _, bad := range []string{"/srv/dex/web", "../web", "absent"} {
		if _, err := frontendAssets(cfgPath, []byte("frontend:\n  dir: "+bad+"\n")); err == nil || !strings.Contains(err.Error(), "frontend.dir") {
			t.Errorf("dir %q: err = %v; want a frontend.dir error", bad, err)
		}
	}
	if a, err := frontendAssets(cfgPath, []byte("issuer: https://id.example.com\n")); err != nil || a != nil {
		t.Errorf("no dir: %v, %v; want none", a, err)
	}
}

// TestFrontendAssetsRefuseOutsideLinks: a symbolic link in frontend.dir to a
// file outside it (a key, a config) is not bundled into the zip, where the
// function would serve it at /static/…; a link inside the directory is.
func TestFrontendAssetsRefuseOutsideLinks(t *testing.T) {
	src := t.TempDir()
	for name, body := range map[string]string{"web/static/logo.png": "PNG", "secret.pem": "KEY"} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := []byte("issuer: https://id.example.com\nfrontend:\n  dir: web\n")
	cfgPath := filepath.Join(src, "config.yaml")
	if err := os.Symlink(filepath.Join(src, "web", "static", "logo.png"), filepath.Join(src, "web", "static", "alias.png")); err != nil {
		t.Fatal(err)
	}
	if assets, err := frontendAssets(cfgPath, cfg); err != nil || len(assets) != 2 {
		t.Fatalf("a link inside the directory: %d assets, %v; want both files", len(assets), err)
	}
	if err := os.Symlink(filepath.Join(src, "secret.pem"), filepath.Join(src, "web", "static", "key.png")); err != nil {
		t.Fatal(err)
	}
	if assets, err := frontendAssets(cfgPath, cfg); err == nil || !strings.Contains(err.Error(), "out of the directory") {
		t.Errorf("a link to a file outside frontend.dir: %d assets, %v; want it refused", len(assets), err)
	}
}
