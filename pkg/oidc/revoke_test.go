package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func (e *env) postBack(path string, form url.Values, id, secret string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	p := e.do(testClient, req)
	var body map[string]any
	if strings.TrimSpace(p.body) != "" {
		body = decodeJSON(e.t, p.body)
	}
	return p.status, body, p.header
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	t.Run("refresh token revokes its family and its access tokens", func(t *testing.T) {
		tok := e.offlineTokens(confidentialID, confidentialSecret)
		status, _, header := e.postBack(oidc.PathRevoke, url.Values{"token": {tok["refresh_token"].(string)}, "token_type_hint": {"refresh_token"}}, confidentialID, confidentialSecret)
		if status != 200 || header.Get("Cache-Control") != "no-store" {
			t.Fatalf("revoke: %d", status)
		}
		if status, _ := e.refresh(tok["refresh_token"].(string), nil); status != 400 {
			t.Errorf("revoked refresh token still works")
		}
		if p := e.userinfo(http.MethodGet, "Bearer "+tok["access_token"].(string), ""); p.status != 401 {
			t.Errorf("access token of a revoked family: %d; want 401", p.status)
		}
	})
	t.Run("access token", func(t *testing.T) {
		tok := e.tokens()
		at := tok["access_token"].(string)
		if status, _, _ := e.postBack(oidc.PathRevoke, url.Values{"token": {at}}, confidentialID, confidentialSecret); status != 200 {
			t.Fatalf("revoke: %d", status)
		}
		if p := e.userinfo(http.MethodGet, "Bearer "+at, ""); p.status != 401 {
			t.Errorf("revoked access token: userinfo %d; want 401", p.status)
		}
	})
	t.Run("public client by client_id", func(t *testing.T) {
		tok := e.offlineTokens(publicID, "")
		if status, _, _ := e.postBack(oidc.PathRevoke, url.Values{"token": {tok["refresh_token"].(string)}, "client_id": {publicID}}, "", ""); status != 200 {
			t.Fatalf("revoke: %d", status)
		}
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {publicID}}
		if status, body, _ := e.token(form, "", ""); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
			t.Errorf("refresh after the public client revoked: %d %v; want invalid_grant", status, body)
		}
	})
	t.Run("unknown and malformed tokens are 200", func(t *testing.T) {
		for _, tok := range []string{"nonsense", strings.Repeat("A", 43) + "." + strings.Repeat("B", 43), "a.b.c"} {
			if status, _, _ := e.postBack(oidc.PathRevoke, url.Values{"token": {tok}}, confidentialID, confidentialSecret); status != 200 {
				t.Errorf("%q: %d; want 200", tok, status)
			}
		}
	})
	t.Run("another client's token", func(t *testing.T) {
		tok := e.offlineTokens(confidentialID, confidentialSecret)
		for _, kind := range []string{"refresh_token", "access_token"} {
			status, body, _ := e.postBack(oidc.PathRevoke, url.Values{"token": {tok[kind].(string)}}, otherID, otherSecret)
			if status != 400 || body["error"] != oidc.ErrCodeUnauthorizedClient {
				t.Errorf("%s: %d %v; want unauthorized_client", kind, status, body)
			}
		}
		if status, _ := e.refresh(tok["refresh_token"].(string), nil); status != 200 {
			t.Errorf("a foreign client revoked the token")
		}
	})
	t.Run("errors", func(t *testing.T) {
		if status, body, _ := e.postBack(oidc.PathRevoke, url.Values{}, confidentialID, confidentialSecret); status != 400 || body["error"] != oidc.ErrCodeInvalidRequest {
			t.Errorf("missing token: %d %v", status, body)
		}
		if status, body, _ := e.postBack(oidc.PathRevoke, url.Values{"token": {"x"}}, confidentialID, "wrong"); status != 401 || body["error"] != oidc.ErrCodeInvalidClient {
			t.Errorf("bad client: %d %v", status, body)
		}
	})
}
