package oidc_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

var staticFiles = map[string]oidc.StaticFile{
	"/static/main.css":     {ContentType: "text/css; charset=utf-8", Body: []byte("body{}")},
	"/static/img/logo.svg": {ContentType: "image/svg+xml", Body: []byte("<svg/>")},
	"/static/notes.txt":    {ContentType: "application/octet-stream", Body: []byte("hello")},
	"/theme/logo.png":      {ContentType: "image/png", Body: []byte("PNG")},
	"/theme/styles.css":    {ContentType: "text/css; charset=utf-8", Body: []byte("h1{color:red}")},
}

// withIssuerPath serves the provider below /prod, as an API Gateway stage.
func withIssuerPath(c *oidc.Config) { c.Settings.Issuer += "/prod" }

// serveRaw sends a request line as a client would put it on the wire, so
// that no client cleans the path first.
func serveRaw(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	raw := method + " " + target + " HTTP/1.1\r\nHost: id.example.com\r\n" + strings.Join(header, "\r\n")
	if len(header) > 0 {
		raw += "\r\n"
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
	if err != nil {
		t.Fatalf("%s %q: %v", method, target, err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestStaticFiles(t *testing.T) {
	e := newEnv(t, withFrontend(oidc.Frontend{Files: staticFiles}), withIssuerPath)
	h := e.provider.Handler()
	for path, f := range staticFiles {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			w := serveRaw(t, h, method, "/prod"+path)
			if w.Code != http.StatusOK {
				t.Fatalf("%s %s: status %d: %s", method, path, w.Code, w.Body)
			}
			hd := w.Header()
			if hd.Get("Content-Type") != f.ContentType || hd.Get("X-Content-Type-Options") != "nosniff" ||
				hd.Get("Cache-Control") != "public, max-age=3600" || hd.Get("ETag") == "" ||
				!strings.Contains(hd.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("%s %s: headers %v", method, path, hd)
			}
			want := string(f.Body)
			if method == http.MethodHead {
				want = ""
			}
			if w.Body.String() != want {
				t.Errorf("%s %s: body %q; want %q", method, path, w.Body, want)
			}
			if method == http.MethodGet {
				w := serveRaw(t, h, method, "/prod"+path, "If-None-Match: "+hd.Get("ETag"))
				if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
					t.Errorf("%s %s with its ETag: %d %q; want 304", method, path, w.Code, w.Body)
				}
			}
		}
	}
	w := serveRaw(t, h, http.MethodPost, "/prod/static/main.css")
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

// TestStaticFilesNotFound: unknown files, directories and every form of
// traversal are a JSON 404.
func TestStaticFilesNotFound(t *testing.T) {
	e := newEnv(t, withFrontend(oidc.Frontend{Files: staticFiles}), withIssuerPath)
	h := e.provider.Handler()
	for _, target := range []string{
		"/prod/static/absent.png",
		"/prod/static/",
		"/prod/static",
		"/prod/static/img",
		"/prod/static/img/",
		"/prod/theme/",
		"/prod/themes/light/logo.png",
		"/static/main.css", // outside the issuer's path
		"/prod/static/../theme/logo.png",
		"/prod/static/img/../main.css",
		"/prod/static/%2e%2e/theme/logo.png",
		"/prod/static/img/%2E%2E/main.css",
		"/prod/static/.%2e/theme/logo.png",
		"/prod/static//main.css",
		"/prod/static/./main.css",
		"/prod/static/img%2flogo.svg",
		"/prod/static/img%5clogo.svg",
		`/prod/static/img\logo.svg`,
		"/prod/static/main.css%00",
		"/prod/static/main.css%00.png",
		"/prod/theme/%2e%2e/static/main.css",
		"/prod/static/main.css/",
	} {
		w := serveRaw(t, h, http.MethodGet, target)
		var body struct{ Error string }
		if w.Code != http.StatusNotFound || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error != "not_found" {
			t.Errorf("GET %s: %d %q; want a JSON 404", target, w.Code, w.Body)
		}
	}
}

// TestStaticRelativeLogo: Dex's relative logoURL names a served file and is
// shown from the issuer (img-src 'self'); the theme's styles.css is not
// applied.
func TestStaticRelativeLogo(t *testing.T) {
	e := newEnv(t, withFrontend(oidc.Frontend{Issuer: "Example", LogoURL: "theme/logo.png", Files: staticFiles}))
	p := e.get(e.browser(), oidc.PathAuthorize, authParams())
	if p.status != http.StatusOK {
		t.Fatalf("GET /authorize: status %d", p.status)
	}
	if want := `<img src="` + e.issuer + `/theme/logo.png" alt="Example logo">`; !strings.Contains(p.body, want) {
		t.Errorf("page lacks %q:\n%s", want, p.body)
	}
	csp := p.header.Get("Content-Security-Policy")
	if got := cspDirective(csp, "img-src"); got != "'self' data:" {
		t.Errorf("img-src %q; want 'self' data:", got)
	}
	if strings.Contains(p.body, "styles.css") || strings.Contains(p.body, "color:red") {
		t.Errorf("the theme's stylesheet reached the page:\n%s", p.body)
	}
	// A relative logo naming no served file is not shown.
	e = newEnv(t, withFrontend(oidc.Frontend{LogoURL: "theme/absent.png", Files: staticFiles}))
	if p := e.get(e.browser(), oidc.PathAuthorize, authParams()); strings.Contains(p.body, "<img") {
		t.Errorf("a logo naming no file is shown:\n%s", p.body)
	}
}

func TestDirLogoPath(t *testing.T) {
	for s, want := range map[string]string{
		"theme/logo.png":         "/theme/logo.png",
		"/theme/logo.png":        "/theme/logo.png",
		"static/img/logo.svg":    "/static/img/logo.svg",
		"img/logo.png":           "",
		"theme/../static/x.png":  "",
		"../theme/logo.png":      "",
		`theme\logo.png`:         "",
		"theme/logo.png?v=1":     "",
		"theme/%2e%2e/x.png":     "",
		"javascript:alert(1)":    "",
		"//evil.example/x.png":   "",
		"theme":                  "",
		"":                       "",
		"static/img/./x.png":     "/static/img/x.png",
		"themes/light/logo.png":  "",
		"theme/logo.png#section": "",
	} {
		got, ok := oidc.DirLogoPath(s)
		if got != want || ok != (want != "") {
			t.Errorf("DirLogoPath(%q) = %q, %v; want %q", s, got, ok, want)
		}
	}
}
