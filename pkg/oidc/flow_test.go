package oidc_test

import (
	"context"
	"encoding/json"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func decodeJSON(t testing.TB, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	return m
}

// TestRelyingPartyFlow logs in with real relying-party libraries: go-oidc
// discovers the provider and verifies the ID token through the JWKS,
// x/oauth2 exchanges the code with PKCE.
func TestRelyingPartyFlow(t *testing.T) {
	tests := []struct {
		name      string
		clientID  string
		secret    string
		authStyle oauth2.AuthStyle
	}{
		{"confidential client_secret_basic", confidentialID, confidentialSecret, oauth2.AuthStyleInHeader},
		{"confidential client_secret_post", confidentialID, confidentialSecret, oauth2.AuthStyleInParams},
		{"public client with PKCE", publicID, "", oauth2.AuthStyleInParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			provider, err := gooidc.NewProvider(ctx, e.issuer)
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			endpoint := provider.Endpoint()
			endpoint.AuthStyle = tt.authStyle
			rp := oauth2.Config{
				ClientID: tt.clientID, ClientSecret: tt.secret, Endpoint: endpoint,
				RedirectURL: redirectURI, Scopes: []string{gooidc.ScopeOpenID, "email", "profile", "groups"},
			}
			verifier := oauth2.GenerateVerifier()
			authURL := rp.AuthCodeURL("af0ifjsldkj", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n-0S6_WzA2Mj"))

			loc := e.login(e.browser(), mustParse(t, authURL).Query())
			q := loc.Query()
			if got := q.Get("state"); got != "af0ifjsldkj" {
				t.Errorf("state = %q; want %q", got, "af0ifjsldkj")
			}
			if got := q.Get("iss"); got != e.issuer {
				t.Errorf("iss = %q; want %q (RFC 9207)", got, e.issuer)
			}

			tok, err := rp.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			rawID, _ := tok.Extra("id_token").(string)
			idt, err := provider.Verifier(&gooidc.Config{ClientID: tt.clientID}).Verify(ctx, rawID)
			if err != nil {
				t.Fatalf("Verify ID token: %v", err)
			}
			if idt.Nonce != "n-0S6_WzA2Mj" {
				t.Errorf("nonce = %q; want %q", idt.Nonce, "n-0S6_WzA2Mj")
			}
			if idt.Subject != userSubject {
				t.Errorf("sub = %q; want %q", idt.Subject, userSubject)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var claims struct {
				Email             string   `json:"email"`
				EmailVerified     bool     `json:"email_verified"`
				Name              string   `json:"name"`
				PreferredUsername string   `json:"preferred_username"`
				Groups            []string `json:"groups"`
				AuthTime          int64    `json:"auth_time"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if claims.Email != userEmail || !claims.EmailVerified || claims.Name != "Admin" || claims.PreferredUsername != "admin" || len(claims.Groups) != 1 || claims.AuthTime == 0 {
				t.Errorf("ID token claims = %+v", claims)
			}
			if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
				t.Errorf("token_type %q, expiry %v", tok.TokenType, tok.Expiry)
			}

			info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("UserInfo: %v", err)
			}
			if info.Subject != userSubject || info.Email != userEmail || !info.EmailVerified {
				t.Errorf("userinfo = %+v", info)
			}
		})
	}
}
