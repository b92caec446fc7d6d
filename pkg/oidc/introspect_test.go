package oidc_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

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

func TestIntrospectDisabledUser(t *testing.T) {
	e := newEnv(t)
	tok := e.offlineTokens(confidentialID, confidentialSecret)
	u, _ := e.store.User(t.Context(), userID)
	u.Disabled = true
	putUser(t, e.store, u)
	for _, kind := range []string{"access_token", "refresh_token"} {
		_, body, _ := e.postBack(oidc.PathIntrospect, map[string][]string{"token": {tok[kind].(string)}}, confidentialID, confidentialSecret)
		if body["active"] != false {
			t.Errorf("%s of a disabled user: %v; want inactive", kind, body)
		}
	}
}
