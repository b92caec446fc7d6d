package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{oidc.PathDiscovery, oidc.PathOAuthMetadata} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
			// Forwarding headers must never change the metadata.
			req.Header.Set("X-Forwarded-Host", "evil.example")
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("Forwarded", "host=evil.example;proto=https")
			req.Host = "evil.example"
			p := e.do(http.DefaultClient, req)
			if p.status != 200 {
				t.Fatalf("status %d", p.status)
			}
			if strings.Contains(p.body, "evil") {
				t.Errorf("forwarding headers leaked into metadata: %s", p.body)
			}
			m := decodeJSON(t, p.body)
			wantStrings := map[string]string{
				"issuer":                 e.issuer,
				"authorization_endpoint": e.issuer + "/authorize",
				"token_endpoint":         e.issuer + "/token",
				"userinfo_endpoint":      e.issuer + "/userinfo",
				"jwks_uri":               e.issuer + "/.well-known/jwks.json",
			}
			for k, want := range wantStrings {
				if m[k] != want {
					t.Errorf("%s = %v; want %q", k, m[k], want)
				}
			}
			wantLists := map[string][]string{
				"code_challenge_methods_supported":              {"S256"},
				"response_types_supported":                      {"code"},
				"grant_types_supported":                         {"authorization_code", "refresh_token"},
				"response_modes_supported":                      {"query", "fragment", "form_post"},
				"revocation_endpoint_auth_methods_supported":    {"client_secret_basic", "client_secret_post", "none"},
				"introspection_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post"},
				"scopes_supported":                              {"openid", "email", "profile", "address", "phone", "groups", "federated:id", "offline_access"},
				"id_token_signing_alg_values_supported":         {"RS256"},
				"token_endpoint_auth_methods_supported":         {"client_secret_basic", "client_secret_post", "none"},
			}
			for k, want := range wantLists {
				if got := stringList(m[k]); !slices.Equal(got, want) {
					t.Errorf("%s = %v; want %v", k, got, want)
				}
			}
			if m["revocation_endpoint"] != e.issuer+"/revoke" || m["introspection_endpoint"] != e.issuer+"/introspect" || m["claims_parameter_supported"] != true {
				t.Errorf("revocation/introspection endpoints or claims_parameter_supported wrong: %v", m)
			}
			if m["authorization_response_iss_parameter_supported"] != true || m["request_uri_parameter_supported"] != false {
				t.Errorf("iss parameter / request_uri flags wrong: %v %v", m["authorization_response_iss_parameter_supported"], m["request_uri_parameter_supported"])
			}
		})
	}
}

func TestIssuerWithPath(t *testing.T) {
	e := newEnv(t)
	p, err := oidc.New(oidc.Config{Settings: oidc.Settings{Issuer: e.issuer + "/tenant"}, Clients: e.store, Users: e.store, AuthRequests: e.store, Codes: e.store, Refresh: e.store, Revocations: e.store, Sessions: e.store, Consents: e.store, Attempts: e.store, Signer: testSigner})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.URL(oidc.PathToken); got != e.issuer+"/tenant/token" {
		t.Errorf("URL = %q", got)
	}
	for _, bad := range []string{"http://id.example.com", "https://id.example.com/", "https://id.example.com?x=1", "id.example.com", "https://id.example.com#f"} {
		if _, err := oidc.New(oidc.Config{Settings: oidc.Settings{Issuer: bad}, Clients: e.store, Users: e.store, AuthRequests: e.store, Codes: e.store, Refresh: e.store, Revocations: e.store, Sessions: e.store, Consents: e.store, Attempts: e.store, Signer: testSigner}); err == nil {
			t.Errorf("issuer %q accepted", bad)
		}
	}
}

func stringList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestJWKS(t *testing.T) {
	e := newEnv(t)
	p := e.get(http.DefaultClient, oidc.PathJWKS, nil)
	if p.status != 200 || !strings.Contains(p.header.Get("Cache-Control"), "max-age=") {
		t.Fatalf("status %d, Cache-Control %q", p.status, p.header.Get("Cache-Control"))
	}
	key, _ := testSigner.SigningKey(context.Background())
	m := decodeJSON(t, p.body)
	keys := m["keys"].([]any)
	k := keys[0].(map[string]any)
	for field, want := range map[string]string{"kty": "RSA", "kid": key.KeyID, "use": "sig", "alg": "RS256"} {
		if k[field] != want {
			t.Errorf("%s = %v; want %q", field, k[field], want)
		}
	}
	if k["n"] == nil || k["e"] != "AQAB" || k["d"] != nil {
		t.Errorf("key material wrong or private: %v", k)
	}
}

// accessToken runs a login and code exchange and returns the token response.
func (e *env) tokens() map[string]any {
	code, verifier := e.pkceCode(confidentialID)
	status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
	if status != 200 {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return body
}

func (e *env) userinfo(method, header, formToken string) page {
	var req *http.Request
	if method == http.MethodPost {
		req, _ = http.NewRequest(method, e.issuer+oidc.PathUserInfo, strings.NewReader(url.Values{"access_token": {formToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, e.issuer+oidc.PathUserInfo, nil)
	}
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	return e.do(http.DefaultClient, req)
}

func TestUserInfo(t *testing.T) {
	e := newEnv(t)
	tok := e.tokens()
	at, idt := tok["access_token"].(string), tok["id_token"].(string)

	for _, tc := range []struct{ method, header, form string }{
		{http.MethodGet, "Bearer " + at, ""},
		{http.MethodGet, "bearer " + at, ""},
		{http.MethodPost, "Bearer " + at, ""},
		{http.MethodPost, "", at},
	} {
		p := e.userinfo(tc.method, tc.header, tc.form)
		if p.status != 200 {
			t.Fatalf("%s header=%v form=%v: %d %s", tc.method, tc.header != "", tc.form != "", p.status, p.body)
		}
		m := decodeJSON(t, p.body)
		if m["sub"] != userSubject || m["email"] != userEmail || m["preferred_username"] != "admin" {
			t.Errorf("claims = %v", m)
		}
	}

	forged := forgeToken(t, e.issuer, userSubject)
	expiredEnv := func() string { e.clock.Advance(2 * time.Hour); return "Bearer " + at }
	tests := []struct {
		name   string
		header func() string
	}{
		{"missing token", func() string { return "" }},
		{"malformed header", func() string { return "Token " + at }},
		{"empty bearer", func() string { return "Bearer " }},
		{"garbage token", func() string { return "Bearer not.a.jwt" }},
		{"ID token as access token", func() string { return "Bearer " + idt }},
		{"token signed by a foreign key", func() string { return "Bearer " + forged }},
		{"tampered token", func() string { return "Bearer " + tamper(at) }},
		{"expired token", expiredEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.userinfo(http.MethodGet, tt.header(), "")
			if p.status != http.StatusUnauthorized {
				t.Fatalf("status %d %s; want 401", p.status, p.body)
			}
			if got := p.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if decodeJSON(t, p.body)["error"] != oidc.ErrCodeInvalidToken {
				t.Errorf("body = %s", p.body)
			}
		})
	}
	t.Run("token in header and form", func(t *testing.T) {
		if p := e.userinfo(http.MethodPost, "Bearer "+at, at); p.status != 400 {
			t.Errorf("status %d; want 400", p.status)
		}
	})
}

// forgeToken signs a well-formed access token with a key the provider never
// published.
func forgeToken(t *testing.T, issuer, sub string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": issuer, "sub": sub, "aud": issuer + "/userinfo", "exp": time.Now().Add(time.Hour).Unix(), "scope": "openid email",
	})
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = "forged"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tamper(token string) string {
	parts := strings.Split(token, ".")
	parts[1] = parts[1][:len(parts[1])-2] + "AA"
	return strings.Join(parts, ".")
}

func TestCORS(t *testing.T) {
	e := newEnv(t)
	const allowed, denied = "http://127.0.0.1:3000", "http://evil.example"
	for _, path := range []string{oidc.PathDiscovery, oidc.PathJWKS, oidc.PathToken, oidc.PathUserInfo} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodOptions, e.issuer+path, nil)
			req.Header.Set("Origin", allowed)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization")
			p := e.do(http.DefaultClient, req)
			if p.status != http.StatusNoContent || p.header.Get("Access-Control-Allow-Origin") != allowed || p.header.Get("Access-Control-Allow-Methods") == "" {
				t.Errorf("preflight: %d %v", p.status, p.header)
			}
			if !slices.Contains(p.header.Values("Vary"), "Origin") {
				t.Errorf("Vary lacks Origin: %v", p.header.Values("Vary"))
			}
			req.Header.Set("Origin", denied)
			p = e.do(http.DefaultClient, req)
			if p.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("denied origin got CORS headers")
			}
		})
	}
	req, _ := http.NewRequest(http.MethodOptions, e.issuer+oidc.PathAuthorize, nil)
	req.Header.Set("Origin", allowed)
	req.Header.Set("Access-Control-Request-Method", "GET")
	if p := e.do(http.DefaultClient, req); p.header.Get("Access-Control-Allow-Origin") != "" || p.status != http.StatusMethodNotAllowed {
		t.Errorf("authorize preflight: %d %v; want 405 without CORS", p.status, p.header)
	}
	req, _ = http.NewRequest(http.MethodGet, e.issuer+oidc.PathDiscovery, nil)
	req.Header.Set("Origin", allowed)
	if p := e.do(http.DefaultClient, req); p.header.Get("Access-Control-Allow-Origin") != allowed {
		t.Errorf("simple GET lacks CORS header")
	}
}

func TestFunctionHandlerRoutes(t *testing.T) {
	e := newEnv(t)
	h := e.provider.FunctionHandler(oidc.FunctionJWKS)
	for _, rt := range oidc.Routes {
		req, _ := http.NewRequest(rt.Method, e.issuer+rt.Path, nil)
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		owned := rt.Function == oidc.FunctionJWKS
		if owned && rec.status == http.StatusNotFound || !owned && rec.status != http.StatusNotFound {
			t.Errorf("jwks function, %s %s: status %d", rt.Method, rt.Path, rec.status)
		}
	}
}

type recorder struct {
	header http.Header
	status int
}

func newRecorder() *recorder                    { return &recorder{header: http.Header{}, status: 200} }
func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(s int)           { r.status = s }
