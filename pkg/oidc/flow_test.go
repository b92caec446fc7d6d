package oidc_test

import (
	"context"
	"encoding/json"
	"github.com/serverless-oidc/op/internal/store/memory"
	"net/http"
	"net/url"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/serverless-oidc/op/pkg/oidc"
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

// TestConcurrentRedemption: 50 goroutines redeem one code; exactly one gets
// tokens, the rest invalid_grant.
func TestConcurrentRedemption(t *testing.T) {
	const n = 50
	race := newBarrier(n)
	e := newEnv(t, func(c *oidc.Config) {
		rs := racingStore{Store: c.Codes.(*memory.Store), codes: race}
		c.Codes = rs
	})
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	code := e.code(params)

	type result struct {
		status int
		body   map[string]any
		err    error
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			status, body, _, err := e.tryToken(url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
			}, confidentialID, confidentialSecret)
			results <- result{status, body, err}
		}()
	}
	close(start)
	ok := 0
	for range n {
		r := <-results
		switch {
		case r.err != nil:
			t.Errorf("token request: %v", r.err)
		case r.status == http.StatusOK && r.body["access_token"] != nil:
			ok++
		case r.status == http.StatusBadRequest && r.body["error"] == oidc.ErrCodeInvalidGrant && r.body["access_token"] == nil:
		default:
			t.Errorf("unexpected answer %d %v", r.status, r.body)
		}
	}
	if ok != 1 {
		t.Errorf("%d redemptions succeeded; want exactly 1", ok)
	}
}
