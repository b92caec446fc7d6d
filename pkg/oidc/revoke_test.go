package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func (e *env) postBack(path string, form url.Values, id, secret string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	p := e.do(http.DefaultClient, req)
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

func TestIntrospect(t *testing.T) {
	e := newEnv(t)
	tok := e.offlineTokens(confidentialID, confidentialSecret)
	at, rt, idt := tok["access_token"].(string), tok["refresh_token"].(string), tok["id_token"].(string)
	introspect := func(token, id, secret string) (int, map[string]any) {
		status, body, _ := e.postBack(oidc.PathIntrospect, url.Values{"token": {token}}, id, secret)
		return status, body
	}
	status, body := introspect(at, confidentialID, confidentialSecret)
	if status != 200 || body["active"] != true || body["client_id"] != confidentialID || body["sub"] != userSubject || body["scope"] != "openid email offline_access" || body["token_type"] != "Bearer" {
		t.Errorf("access token: %d %v", status, body)
	}
	status, body = introspect(rt, confidentialID, confidentialSecret)
	if status != 200 || body["active"] != true || body["client_id"] != confidentialID || body["exp"] == nil {
		t.Errorf("refresh token: %d %v", status, body)
	}
	for name, token := range map[string]string{"ID token": idt, "garbage": "garbage", "tampered": tamper(at)} {
		if _, body := introspect(token, confidentialID, confidentialSecret); body["active"] != false || len(body) != 1 {
			t.Errorf("%s: %v; want only active:false", name, body)
		}
	}
	for name, token := range map[string]string{"access": at, "refresh": rt} {
		if _, body := introspect(token, otherID, otherSecret); body["active"] != false {
			t.Errorf("%s token introspected by another client: %v", name, body)
		}
	}
	if status, body, _ := e.postBack(oidc.PathIntrospect, url.Values{"token": {at}, "client_id": {publicID}}, "", ""); status != 401 || body["error"] != oidc.ErrCodeInvalidClient {
		t.Errorf("public client: %d %v; want 401 invalid_client", status, body)
	}
	if status, _ := introspect(at, "", ""); status != 401 {
		t.Errorf("anonymous: %d; want 401", status)
	}
	// Revoked and expired tokens are inactive.
	e.postBack(oidc.PathRevoke, url.Values{"token": {at}}, confidentialID, confidentialSecret)
	if _, body := introspect(at, confidentialID, confidentialSecret); body["active"] != false {
		t.Errorf("revoked access token: %v", body)
	}
	e.clock.Advance(24 * 31 * time.Hour)
	if _, body := introspect(rt, confidentialID, confidentialSecret); body["active"] != false {
		t.Errorf("expired refresh token: %v", body)
	}
}
