package oidc_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// styleHashOf is the CSP hash of the one <style> element of body.
func styleHashOf(t *testing.T, body string) (css, hash string) {
	t.Helper()
	m := styleElement.FindAllStringSubmatch(body, -1)
	if len(m) != 1 {
		t.Fatalf("want one <style> element, got %d:\n%s", len(m), body)
	}
	sum := sha256.Sum256([]byte(m[0][1]))
	return m[0][1], "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// cspDirective returns the value of directive name in policy.
func cspDirective(policy, name string) string {
	for _, d := range strings.Split(policy, ";") {
		if k, v, _ := strings.Cut(strings.TrimSpace(d), " "); k == name {
			return v
		}
	}
	return ""
}

func withFrontend(f oidc.Frontend) func(*oidc.Config) {
	return func(c *oidc.Config) { c.Settings.Frontend = f }
}

func TestFrontendPages(t *testing.T) {
	tests := []struct {
		name       string
		frontend   oidc.Frontend
		wantTitle  string
		wantImg    string // the logo element, or "" for none
		wantImgSrc string
		wantDark   bool
	}{
		{name: "default", wantTitle: "<title>Sign in</title>", wantImgSrc: "'self' data:"},
		{
			name:      "name only",
			frontend:  oidc.Frontend{Issuer: "Example Corp"},
			wantTitle: "<title>Sign in · Example Corp</title>", wantImgSrc: "'self' data:",
		},
		{
			name:       "dark with a logo",
			frontend:   oidc.Frontend{Issuer: "Example Corp", LogoURL: "https://cdn.example.com:8443/brand/logo.svg?v=2", Theme: oidc.ThemeDark},
			wantTitle:  "<title>Sign in · Example Corp</title>",
			wantImg:    `<img src="https://cdn.example.com:8443/brand/logo.svg?v=2" alt="Example Corp logo">`,
			wantImgSrc: "'self' data: https://cdn.example.com:8443", wantDark: true,
		},
		{
			name:       "logo without a name",
			frontend:   oidc.Frontend{LogoURL: "https://cdn.example.com/logo.png"},
			wantTitle:  "<title>Sign in</title>",
			wantImg:    `<img src="https://cdn.example.com/logo.png" alt="Logo">`,
			wantImgSrc: "'self' data: https://cdn.example.com",
		},
		{
			name:       "an http logo is not shown",
			frontend:   oidc.Frontend{LogoURL: "http://cdn.example.com/logo.png", Theme: "blue"},
			wantTitle:  "<title>Sign in</title>",
			wantImgSrc: "'self' data:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withFrontend(tt.frontend))
			p := e.get(e.browser(), oidc.PathAuthorize, authParams())
			if p.status != http.StatusOK {
				t.Fatalf("GET /authorize: status %d", p.status)
			}
			csp := p.header.Get("Content-Security-Policy")
			if !strings.Contains(p.body, tt.wantTitle) {
				t.Errorf("page lacks %q:\n%s", tt.wantTitle, p.body)
			}
			if tt.frontend.Issuer != "" && !strings.Contains(p.body, `<header class="brand">`) {
				t.Errorf("page lacks the brand header:\n%s", p.body)
			}
			if got := strings.Contains(p.body, "<img"); got != (tt.wantImg != "") || !strings.Contains(p.body, tt.wantImg) {
				t.Errorf("logo: want %q in:\n%s", tt.wantImg, p.body)
			}
			if got := cspDirective(csp, "img-src"); got != tt.wantImgSrc {
				t.Errorf("img-src %q; want %q", got, tt.wantImgSrc)
			}
			css, hash := styleHashOf(t, p.body)
			if got := cspDirective(csp, "style-src"); got != hash {
				t.Errorf("style-src %q; want the hash of the style sent, %q", got, hash)
			}
			if got := strings.Contains(css, "color-scheme:dark"); got != tt.wantDark {
				t.Errorf("dark stylesheet: %v; want %v", got, tt.wantDark)
			}
		})
	}
}

// TestFrontendErrorPage: the name and theme reach every page, not only the
// login form.
func TestFrontendErrorPage(t *testing.T) {
	e := newEnv(t, withFrontend(oidc.Frontend{Issuer: "Example Corp", Theme: oidc.ThemeDark}))
	q := authParams()
	q.Set("client_id", "nobody")
	p := e.get(e.browser(), oidc.PathAuthorize, q)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "<title>Error · Example Corp</title>") {
		t.Fatalf("error page: status %d:\n%s", p.status, p.body)
	}
	css, hash := styleHashOf(t, p.body)
	if cspDirective(p.header.Get("Content-Security-Policy"), "style-src") != hash || !strings.Contains(css, "color-scheme:dark") {
		t.Errorf("error page: the dark style and its hash; got CSP %q", p.header.Get("Content-Security-Policy"))
	}
}

func TestConsentClientLogo(t *testing.T) {
	tests := []struct {
		name, clientLogo, frontendLogo string
		wantImg, wantImgSrc            string
	}{
		{
			name: "client logo", clientLogo: "https://app.example.org/logo.png",
			wantImg:    `<img class="client-logo" src="https://app.example.org/logo.png" alt="Logo App logo">`,
			wantImgSrc: "'self' data: https://app.example.org",
		},
		{
			name: "both logos", clientLogo: "https://app.example.org/logo.png", frontendLogo: "https://cdn.example.com/logo.png",
			wantImg:    `<img class="client-logo" src="https://app.example.org/logo.png" alt="Logo App logo">`,
			wantImgSrc: "'self' data: https://cdn.example.com https://app.example.org",
		},
		{
			name: "one origin once", clientLogo: "https://cdn.example.com/app.png", frontendLogo: "https://cdn.example.com/logo.png",
			wantImg:    `src="https://cdn.example.com/app.png"`,
			wantImgSrc: "'self' data: https://cdn.example.com",
		},
		{name: "a javascript: logo is not shown", clientLogo: "javascript:alert(1)", wantImgSrc: "'self' data:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withFrontend(oidc.Frontend{LogoURL: tt.frontendLogo}))
			e.store.PutClient(oidc.Client{ID: "logo-app", Name: "Logo App", SecretHash: oidc.HashSecret("s3cret-s3cret"),
				RedirectURIs: []string{redirectURI}, LogoURL: tt.clientLogo})
			c := e.browser()
			q := authParams()
			q.Set("client_id", "logo-app")
			login := e.get(c, oidc.PathAuthorize, q)
			if strings.Contains(login.body, tt.clientLogo) && tt.clientLogo != "" {
				t.Errorf("the login page shows the client logo")
			}
			form := formFields(t, login)
			form.Set("login", userEmail)
			form.Set("password", userPassword)
			p := e.postForm(c, oidc.PathLogin, form)
			if !strings.Contains(p.body, `name="approve"`) {
				t.Fatalf("no approval page (status %d):\n%s", p.status, p.body)
			}
			if tt.wantImg != "" && !strings.Contains(p.body, tt.wantImg) {
				t.Errorf("approval page lacks %q:\n%s", tt.wantImg, p.body)
			}
			if tt.wantImg == "" && strings.Contains(p.body, `class="client-logo"`) {
				t.Errorf("approval page shows a client logo:\n%s", p.body)
			}
			if got := cspDirective(p.header.Get("Content-Security-Policy"), "img-src"); got != tt.wantImgSrc {
				t.Errorf("img-src %q; want %q", got, tt.wantImgSrc)
			}
		})
	}
}

func TestCheckLogoURL(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"https://cdn.example.com/logo.png", true},
		{"https://cdn.example.com:8443/a/b.svg?v=1", true},
		{"http://cdn.example.com/logo.png", false},
		{"//cdn.example.com/logo.png", false},
		{"/static/logo.png", false},
		{"data:image/png;base64,AAAA", false},
		{"javascript:alert(1)", false},
		{"https://user@cdn.example.com/logo.png", false},
		{"https://[::1]/logo.png", false},
		{"https:///logo.png", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := oidc.CheckLogoURL(tt.url) == nil; got != tt.want {
			t.Errorf("CheckLogoURL(%q) ok = %v; want %v", tt.url, got, tt.want)
		}
	}
}
