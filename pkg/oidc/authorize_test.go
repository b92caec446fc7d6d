package oidc_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestAuthorizeUntrustedRedirect: while the client or its redirect URI is
// unproven, errors are shown as a page and the browser is never redirected.
func TestAuthorizeUntrustedRedirect(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		change func(url.Values)
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "nobody") }},
		{"missing client_id", func(v url.Values) { v.Del("client_id") }},
		{"missing redirect_uri", func(v url.Values) { v.Del("redirect_uri") }},
		{"trailing slash", func(v url.Values) { v.Set("redirect_uri", redirectURI+"/") }},
		{"different port", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:5556/callback") }},
		{"extra query", func(v url.Values) { v.Set("redirect_uri", redirectURI+"?next=evil") }},
		{"different case", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:5555/Callback") }},
		{"different host", func(v url.Values) { v.Set("redirect_uri", "http://evil.example/callback") }},
		{"fragment", func(v url.Values) { v.Set("redirect_uri", redirectURI+"#x") }},
		{"https instead of http", func(v url.Values) { v.Set("redirect_uri", "https://127.0.0.1:5555/callback") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := authParams()
			params.Set("response_type", "token") // would be an error too: must not be redirected
			tt.change(params)
			p := e.get(e.browser(), oidc.PathAuthorize, params)
			if p.status != http.StatusBadRequest {
				t.Errorf("status = %d; want 400", p.status)
			}
			if loc := p.header.Get("Location"); loc != "" {
				t.Errorf("redirected to %q; want an error page", loc)
			}
			if !strings.Contains(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "Something went wrong") {
				t.Errorf("want an HTML error page, got %q: %s", p.header.Get("Content-Type"), p.body)
			}
			assertPageHeaders(t, p)
		})
	}
}

// TestAuthorizeErrorRedirects: once the redirect URI is validated, errors go
// back to the client with the RFC 6749 §4.1.2.1 code, state and iss, and no code.
func TestAuthorizeErrorRedirects(t *testing.T) {
	_, challenge := pkcePair()
	tests := []struct {
		name   string
		change func(url.Values)
		want   string
	}{
		{"missing openid scope", func(v url.Values) { v.Set("scope", "email profile") }, oidc.ErrCodeInvalidScope},
		{"missing scope", func(v url.Values) { v.Del("scope") }, oidc.ErrCodeInvalidScope},
		{"unsupported response_type", func(v url.Values) { v.Set("response_type", "token") }, oidc.ErrCodeUnsupportedResponseType},
		{"missing response_type", func(v url.Values) { v.Del("response_type") }, oidc.ErrCodeInvalidRequest},
		{"public client without PKCE", func(v url.Values) { v.Set("client_id", publicID) }, oidc.ErrCodeInvalidRequest},
		{"PKCE plain", func(v url.Values) { v.Set("code_challenge", challenge); v.Set("code_challenge_method", "plain") }, oidc.ErrCodeInvalidRequest},
		{"PKCE method defaulting to plain", func(v url.Values) { v.Set("code_challenge", challenge) }, oidc.ErrCodeInvalidRequest},
		{"PKCE malformed challenge", func(v url.Values) { v.Set("code_challenge", "short"); v.Set("code_challenge_method", "S256") }, oidc.ErrCodeInvalidRequest},
		{"unknown prompt", func(v url.Values) { v.Set("prompt", "sometimes") }, oidc.ErrCodeInvalidRequest},
		{"prompt none with login", func(v url.Values) { v.Set("prompt", "none login") }, oidc.ErrCodeInvalidRequest},
		{"prompt none without session", func(v url.Values) { v.Set("prompt", "none") }, oidc.ErrCodeLoginRequired},
		{"negative max_age", func(v url.Values) { v.Set("max_age", "-1") }, oidc.ErrCodeInvalidRequest},
		{"request object", func(v url.Values) { v.Set("request", "eyJ") }, oidc.ErrCodeInvalidRequestObject},
		{"request_uri", func(v url.Values) { v.Set("request_uri", "https://x") }, oidc.ErrCodeRequestURINotSupported},
		{"unsupported response_mode", func(v url.Values) { v.Set("response_mode", "web_message") }, oidc.ErrCodeInvalidRequest},
		{"oversize state", func(v url.Values) { v.Set("state", strings.Repeat("s", 5000)) }, oidc.ErrCodeInvalidRequest},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := authParams()
			tt.change(params)
			p := e.get(e.browser(), oidc.PathAuthorize, params)
			if p.status != http.StatusFound {
				t.Fatalf("status = %d; want 302:\n%s", p.status, p.body)
			}
			loc := mustParse(t, p.header.Get("Location"))
			q := responseParams(t, loc)
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
				t.Errorf("redirected to %q; want %q", got, redirectURI)
			}
			if got := q.Get("error"); got != tt.want {
				t.Errorf("error = %q; want %q (%s)", got, tt.want, q.Get("error_description"))
			}
			if q.Get("iss") != e.issuer {
				t.Errorf("iss = %q; want %q", q.Get("iss"), e.issuer)
			}
			if tt.name != "oversize state" && q.Get("state") != params.Get("state") {
				t.Errorf("state = %q; want %q", q.Get("state"), params.Get("state"))
			}
			if q.Has("code") {
				t.Errorf("a code was issued with an error")
			}
		})
	}
}

// responseParams reads an authorization response from the query or, for
// fragment responses, the fragment.
func responseParams(t *testing.T, loc *url.URL) url.Values {
	t.Helper()
	if loc.Fragment != "" {
		v, err := url.ParseQuery(loc.Fragment)
		if err != nil {
			t.Fatalf("fragment %q: %v", loc.Fragment, err)
		}
		return v
	}
	return loc.Query()
}

func TestAuthorizeDuplicateParameter(t *testing.T) {
	e := newEnv(t)
	p := e.get(e.browser(), oidc.PathAuthorize, nil)
	if p.status != http.StatusBadRequest {
		t.Errorf("no parameters: status %d; want 400", p.status)
	}
	q := authParams().Encode() + "&scope=openid"
	req, _ := http.NewRequest(http.MethodGet, e.issuer+oidc.PathAuthorize+"?"+q, nil)
	p = e.do(e.browser(), req)
	if p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
		t.Errorf("duplicate scope: status %d, Location %q; want a 400 page", p.status, p.header.Get("Location"))
	}
}

// TestAuthorizePost: the authorization request may be a form POST (OpenID
// Connect Core §3.1.2.1); its error redirects are 303 (RFC 9700 §4.12).
func TestAuthorizePost(t *testing.T) {
	e := newEnv(t)
	p := e.postForm(e.browser(), oidc.PathAuthorize, authParams())
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("POST /authorize: status %d; want the login form", p.status)
	}
	bad := authParams()
	bad.Set("scope", "email")
	p = e.postForm(e.browser(), oidc.PathAuthorize, bad)
	if p.status != http.StatusSeeOther {
		t.Errorf("POST /authorize error: status %d; want 303", p.status)
	}
}

var externalResource = regexp.MustCompile(`(src|href)="(https?:)?//`)

// assertPageHeaders checks the RFC 9700 §4.16 baseline of every HTML page.
func assertPageHeaders(t *testing.T, p page) {
	t.Helper()
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if got := p.header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q; want DENY", got)
	}
	if got := p.header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q; want no-referrer", got)
	}
	if strings.Contains(p.body, "<script") || externalResource.MatchString(p.body) {
		t.Errorf("page loads scripts or external resources")
	}
}
