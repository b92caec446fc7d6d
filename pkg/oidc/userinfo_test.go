package oidc_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

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
	// RFC 6750 §3.1: without authentication information (or with another
	// scheme) the challenge alone answers, with no error code.
	for name, header := range map[string]string{"missing token": "", "another scheme": "Token " + at} {
		p := e.userinfo(http.MethodGet, header, "")
		if got := p.header.Get("WWW-Authenticate"); p.status != http.StatusUnauthorized || !strings.HasPrefix(got, "Bearer") || strings.Contains(got, "error=") {
			t.Errorf("%s: %d %q; want 401 and a Bearer challenge without an error code", name, p.status, got)
		}
		if decodeJSON(t, p.body)["error"] != nil {
			t.Errorf("%s: body %s carries an error code", name, p.body)
		}
	}
	tests := []struct {
		name   string
		header func() string
	}{
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
		p := e.userinfo(http.MethodPost, "Bearer "+at, at)
		if p.status != 400 || !strings.HasPrefix(p.header.Get("WWW-Authenticate"), `Bearer error="invalid_request"`) {
			t.Errorf("status %d, WWW-Authenticate %q; want 400 with a Bearer invalid_request challenge", p.status, p.header.Get("WWW-Authenticate"))
		}
	})
}
