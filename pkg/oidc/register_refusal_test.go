package oidc_test

import (
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestRegistrationRefusals: every metadata the policy or the provider's
// rules refuse gets the RFC 7591 §3.2.2 error, and nothing is stored.
func TestRegistrationRefusals(t *testing.T) {
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen, AllowedScopes: []string{"openid", "email", "profile", "api"}}))
	with := func(kv ...any) map[string]any {
		m := maps.Clone(webApp())
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	const redirect, metadata = oidc.ErrCodeInvalidRedirectURI, oidc.ErrCodeInvalidClientMetadata
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no redirect_uris for the code grant", with("redirect_uris", nil), 400, redirect},
		{"http on a public host", with("redirect_uris", []string{"http://rp.example/cb"}), 400, redirect},
		{"a fragment", with("redirect_uris", []string{"https://rp.example/cb#x"}), 400, redirect},
		{"a wildcard", with("redirect_uris", []string{"https://*.rp.example/cb"}), 400, redirect},
		{"relative", with("redirect_uris", []string{"/cb"}), 400, redirect},
		{"javascript", with("redirect_uris", []string{"javascript:alert(1)"}), 400, redirect},
		{"out of band", with("redirect_uris", []string{"urn:ietf:wg:oauth:2.0:oob"}, "token_endpoint_auth_method", "none"), 400, redirect},
		{"custom scheme for a confidential client", with("redirect_uris", []string{"com.example.app:/cb"}), 400, redirect},
		{"custom scheme the policy does not list", with("redirect_uris", []string{"com.example.app:/cb"}, "token_endpoint_auth_method", "none"), 400, redirect},
		{"bad post-logout URI", with("post_logout_redirect_uris", []string{"http://rp.example/bye"}), 400, redirect},
		{"too many redirect URIs", with("redirect_uris", manyURIs(21)), 400, redirect},
		{"private_key_jwt without keys", with("token_endpoint_auth_method", "private_key_jwt"), 400, metadata},
		{"private_key_jwt with jwks and jwks_uri", with("token_endpoint_auth_method", "private_key_jwt", "jwks", map[string]any{"keys": []any{}}, "jwks_uri", "https://rp.example/jwks"), 400, metadata},
		{"private_key_jwt with an empty jwks", with("token_endpoint_auth_method", "private_key_jwt", "jwks", map[string]any{"keys": []any{}}), 400, metadata},
		{"private_key_jwt with an http jwks_uri", with("token_endpoint_auth_method", "private_key_jwt", "jwks_uri", "http://rp.example/jwks"), 400, metadata},
		{"jwks_uri for a secret client", with("jwks_uri", "https://rp.example/jwks"), 400, metadata},
		{"password grant", with("grant_types", []string{"authorization_code", "password"}), 400, metadata},
		{"client_credentials not allowed by the policy", with("grant_types", []string{"client_credentials"}), 400, metadata},
		{"unknown grant", with("grant_types", []string{"authorization_code", "urn:example:magic"}), 400, metadata},
		{"token response type not enabled", with("response_types", []string{"code token"}), 400, metadata},
		{"code grant without code response", with("response_types", []string{"id_token"}), 400, metadata},
		{"scope outside the policy", with("scope", "openid admin"), 400, metadata},
		{"http logo", with("logo_uri", "http://rp.example/logo.png"), 400, metadata},
		{"javascript client_uri", with("client_uri", "javascript:alert(1)"), 400, metadata},
		{"unsupported ID token algorithm", with("id_token_signed_response_alg", "none"), 400, metadata},
		{"control character in the name", with("client_name", "evil\nname"), 400, metadata},
		{"long name", with("client_name", strings.Repeat("n", 201)), 400, metadata},
		{"client_id chosen by the client", with("client_id", "mine"), 400, metadata},
		{"server fields sent", with("registration_access_token", "x"), 400, metadata},
		{"redirect_uris of the wrong type", with("redirect_uris", "https://rp.example/cb"), 400, metadata},
		{"not JSON", "redirect_uris=https://rp.example/cb", 400, metadata},
		{"a JSON array", "[]", 400, metadata},
		{"oversized", with("client_name", "x", "padding", strings.Repeat("p", 17<<10)), 413, metadata},
	}
	before := e.store.Snapshot()["registered"]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := e.regCall("POST", oidc.PathRegister, "", tt.body)
			if status != tt.status || body["error"] != tt.code {
				t.Fatalf("= %d %v; want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
	if e.store.Snapshot()["registered"] != before {
		t.Fatal("a refused registration stored a client")
	}
	req, _ := http.NewRequest("POST", e.issuer+oidc.PathRegister, strings.NewReader(`{"redirect_uris":["`+redirectURI+`"]}`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := e.do(testClient, req); p.status != 400 || !strings.Contains(p.body, metadata) {
		t.Fatalf("a form content type = %d %s; want invalid_client_metadata", p.status, p.body)
	}
}

func manyURIs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "https://rp.example/cb" + strings.Repeat("x", i)
	}
	return out
}

// TestRegistrationPolicyLimits: what a policy allows, it allows: a native
// app's custom scheme, client credentials with API scopes.
func TestRegistrationPolicyLimits(t *testing.T) {
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{
		Policy:                 oidc.RegistrationOpen,
		AllowedGrantTypes:      []string{"authorization_code", "refresh_token", "client_credentials"},
		AllowedScopes:          []string{"openid", "email", "api"},
		AllowedRedirectSchemes: []string{"https", "http", "com.example.app"},
	}), func(c *oidc.Config) { c.GrantTypes = oidc.GrantTypes; c.Attempts = c.Refresh.(oidc.LoginAttempts) })
	native := map[string]any{"redirect_uris": []string{"com.example.app:/cb"}, "token_endpoint_auth_method": "none"}
	if status, body, _ := e.regCall("POST", oidc.PathRegister, "", native); status != 201 || body["client_secret"] != nil {
		t.Fatalf("native app = %d %v; want 201 without a secret", status, body)
	}
	service := map[string]any{"grant_types": []string{"client_credentials"}, "scope": "api", "token_endpoint_auth_method": "client_secret_post"}
	status, body, _ := e.regCall("POST", oidc.PathRegister, "", service)
	if status != 201 || body["response_types"] != nil {
		t.Fatalf("service = %d %v; want 201 without response types", status, body)
	}
	st, tok := postTokenForm(e, map[string][]string{"grant_type": {"client_credentials"}, "client_id": {body["client_id"].(string)}, "client_secret": {body["client_secret"].(string)}})
	if st != 200 || tok["scope"] != "api" {
		t.Fatalf("client credentials of the registered service = %d %v", st, tok)
	}
}

func postTokenForm(e *env, form map[string][]string) (int, map[string]any) {
	st, body, _ := e.token(form, "", "")
	return st, body
}
