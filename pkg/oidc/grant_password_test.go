package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
	"golang.org/x/oauth2"
)

const (
	cliID     = "kubectl-plugin"
	cliSecret = "a3ViZWN0bC1wbHVnaW4tc2VjcmV0"
)

// passwordEnv enables the password grant provider-wide and registers
// cliID, a client whose grantTypes list it.
func passwordEnv(t *testing.T, opts ...func(*oidc.Config)) *env {
	t.Helper()
	enable := func(c *oidc.Config) {
		c.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantPassword}
	}
	e := newEnv(t, append([]func(*oidc.Config){enable}, opts...)...)
	e.store.PutClient(oidc.Client{
		ID: cliID, SecretHash: oidc.HashSecret(cliSecret), RedirectURIs: []string{redirectURI},
		GrantTypes: []string{oidc.GrantPassword, oidc.GrantRefreshToken},
	})
	return e
}

// passwordForm is a password grant request body.
func passwordForm(username, password, scope string) url.Values {
	return url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}, "scope": {scope}}
}

// TestPasswordGrantRelyingParty: x/oauth2's PasswordCredentialsToken gets
// an access token, an ID token go-oidc verifies, and a refresh token that
// refreshes.
func TestPasswordGrantRelyingParty(t *testing.T) {
	e := passwordEnv(t)
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	rp := oauth2.Config{ClientID: cliID, ClientSecret: cliSecret, Endpoint: provider.Endpoint(),
		Scopes: []string{gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess, "email"}}
	tok, err := rp.PasswordCredentialsToken(ctx, userEmail, userPassword)
	if err != nil {
		t.Fatalf("PasswordCredentialsToken: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: cliID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("Verify ID token: %v", err)
	}
	var claims struct {
		Email string   `json:"email"`
		AMR   []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != userSubject || claims.Email != userEmail || !slices.Equal(claims.AMR, []string{"pwd"}) {
		t.Errorf("sub %q email %q amr %q; want %q %q [pwd]", idt.Subject, claims.Email, claims.AMR, userSubject, userEmail)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if p := e.userinfo(http.MethodGet, "Bearer "+tok.AccessToken, ""); p.status != http.StatusOK {
		t.Errorf("userinfo with the access token: %d", p.status)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	tok.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := rp.TokenSource(ctx, tok).Token()
	if err != nil || refreshed.AccessToken == tok.AccessToken {
		t.Errorf("refresh: %v", err)
	}

	// Without offline_access: no refresh token.
	rp.Scopes = []string{gooidc.ScopeOpenID}
	if tok, err := rp.PasswordCredentialsToken(ctx, "admin", userPassword); err != nil || tok.RefreshToken != "" {
		t.Errorf("scope openid, by username: %v, refresh token %q; want tokens without a refresh token", err, tok.RefreshToken)
	}
}

// TestPasswordGrantRefused: every way the grant refuses, with its RFC 6749
// §5.2 code and status.
func TestPasswordGrantRefused(t *testing.T) {
	type want struct {
		status int
		code   string
	}
	good := passwordForm(userEmail, userPassword, "openid")
	for _, tt := range []struct {
		name       string
		enabled    bool
		client     oidc.Client
		form       url.Values
		want       want
		wantReason string
	}{
		{"off by default", false, oidc.Client{GrantTypes: []string{"password"}}, good, want{400, "unsupported_grant_type"}, ""},
		{"client without grantTypes", true, oidc.Client{}, good, want{400, "unauthorized_client"}, ""},
		{"client whose grantTypes omit password", true, oidc.Client{GrantTypes: []string{"authorization_code", "refresh_token"}}, good, want{400, "unauthorized_client"}, ""},
		{"client whose allowedConnectors omit local", true, oidc.Client{GrantTypes: []string{"password"}, AllowedConnectors: []string{"github"}}, good, want{400, "unauthorized_client"}, ""},
		{"wrong password", true, oidc.Client{GrantTypes: []string{"password"}}, passwordForm(userEmail, "wrong", "openid"), want{400, "invalid_grant"}, "invalid username or password"},
		{"unknown user", true, oidc.Client{GrantTypes: []string{"password"}}, passwordForm("nobody@example.com", userPassword, "openid"), want{400, "invalid_grant"}, "invalid username or password"},
		{"no openid", true, oidc.Client{GrantTypes: []string{"password"}}, passwordForm(userEmail, userPassword, "email"), want{400, "invalid_scope"}, ""},
		{"untrusted audience", true, oidc.Client{GrantTypes: []string{"password"}}, passwordForm(userEmail, userPassword, "openid audience:server:client_id:"+otherID), want{400, "invalid_scope"}, ""},
		{"no password", true, oidc.Client{GrantTypes: []string{"password"}}, passwordForm(userEmail, "", "openid"), want{400, "invalid_request"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var e *env
			if tt.enabled {
				e = passwordEnv(t)
			} else {
				e = newEnv(t)
			}
			c := tt.client
			c.ID, c.SecretHash, c.RedirectURIs = "tool", oidc.HashSecret("tool-secret"), []string{redirectURI}
			e.store.PutClient(c)
			status, body, _ := e.token(tt.form, "tool", "tool-secret")
			if status != tt.want.status || body["error"] != tt.want.code {
				t.Errorf("%d %v; want %d %s", status, body, tt.want.status, tt.want.code)
			}
			if tt.wantReason != "" && body["error_description"] != tt.wantReason {
				t.Errorf("error_description %q; want %q", body["error_description"], tt.wantReason)
			}
		})
	}
}

// TestClientGrantTypes: a client's grantTypes restrict the other grants
// too, and a restricted client gets no refresh token it could not use.
func TestClientGrantTypes(t *testing.T) {
	e := passwordEnv(t)
	e.store.PutClient(oidc.Client{ID: "no-refresh", SecretHash: oidc.HashSecret("s"), RedirectURIs: []string{redirectURI},
		GrantTypes: []string{oidc.GrantPassword}})
	status, body, _ := e.token(passwordForm(userEmail, userPassword, "openid offline_access"), "no-refresh", "s")
	if status != 200 || body["refresh_token"] != nil {
		t.Fatalf("%d %v; want tokens without a refresh token", status, body)
	}
	status, body, _ = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "no-refresh", "s")
	if status != 400 || body["error"] != "unauthorized_client" {
		t.Errorf("refresh_token by a client without it: %d %v; want unauthorized_client", status, body)
	}
	status, body, _ = e.token(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {redirectURI}}, "no-refresh", "s")
	if status != 400 || body["error"] != "unauthorized_client" {
		t.Errorf("authorization_code by a client without it: %d %v; want unauthorized_client", status, body)
	}
}

// TestPasswordGrantDiscovery: grant_types_supported lists password only
// when it is enabled.
func TestPasswordGrantDiscovery(t *testing.T) {
	for _, tt := range []struct {
		name string
		e    func(*testing.T) *env
		want bool
	}{
		{"default", func(t *testing.T) *env { return newEnv(t) }, false},
		{"enabled", func(t *testing.T) *env { return passwordEnv(t) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.e(t)
			doc := decodeJSON(t, e.get(testClient, oidc.PathDiscovery, nil).body)
			if got := slices.Contains(stringList(doc["grant_types_supported"]), "password"); got != tt.want {
				t.Errorf("password in grant_types_supported %v: %v; want %v", doc["grant_types_supported"], got, tt.want)
			}
		})
	}
}

// TestPasswordGrantThrottle: the grant counts on the login form's budgets:
// after PerAccountAndIP wrong passwords the right one is refused (429)
// without a check, the login form is throttled too, and the budget comes
// back with the window.
func TestPasswordGrantThrottle(t *testing.T) {
	e := passwordEnv(t, func(c *oidc.Config) {
		c.LoginThrottle = oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 3, PerIP: 1000, PerAccount: 1000}
	})
	for i := range 3 {
		if status, body, _ := e.token(passwordForm("ADMIN@example.com", "wrong", "openid"), cliID, cliSecret); status != 400 {
			t.Fatalf("failure %d: %d %v", i+1, status, body)
		}
	}
	status, body, _ := e.token(passwordForm(userEmail, userPassword, "openid"), cliID, cliSecret)
	if status != http.StatusTooManyRequests || body["error"] != "invalid_grant" {
		t.Errorf("the right password after 3 failures: %d %v; want 429 invalid_grant", status, body)
	}
	if p := e.loginOnce(userEmail, userPassword); p.status != http.StatusTooManyRequests {
		t.Errorf("the login form after 3 failures at the grant: %d; want 429", p.status)
	}
	e.clock.Advance(time.Minute)
	if status, body, _ := e.token(passwordForm(userEmail, userPassword, "openid"), cliID, cliSecret); status != 200 {
		t.Errorf("after the window: %d %v; want tokens", status, body)
	}
}

// TestPasswordGrantBurst: forty wrong passwords posted at once get at
// most the limit's number of password checks (a checked one is answered
// 400, a throttled one 429 before any check), as at the login form.
func TestPasswordGrantBurst(t *testing.T) {
	const n, limit = 40, 3
	e := passwordEnv(t, func(c *oidc.Config) {
		c.Users = oidctest.GatedUsers(c.Users, n)
		c.LoginThrottle = oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: limit, PerIP: 1000, PerAccount: 1000}
	})
	statuses := make(chan int, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			status, _, _, err := e.tryToken(passwordForm(userEmail, "wrong", "openid"), cliID, cliSecret)
			statuses <- status
			errs <- err
		}()
	}
	count := map[int]int{}
	for range n {
		count[<-statuses]++
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if count[400]+count[429] != n {
		t.Errorf("answers %v; want only 400 and 429", count)
	}
	if count[400] > limit {
		t.Errorf("%d parallel wrong passwords got %d password checks; want at most %d", n, count[400], limit)
	}
}

// TestTokenNeedsAttempts: the token function needs the attempts backend
// only when the password grant is enabled.
func TestTokenNeedsAttempts(t *testing.T) {
	e := newEnv(t)
	b := oidc.TokenBackends{Clients: e.store, Users: e.store, Codes: e.store, Refresh: e.store, Revocations: e.store, Devices: e.store, Signer: testSigner}
	s := oidc.Settings{Issuer: e.issuer}
	if _, err := oidc.NewToken(s, b); err != nil {
		t.Errorf("default grants without Attempts: %v", err)
	}
	s.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantPassword}
	if _, err := oidc.NewToken(s, b); err == nil {
		t.Error("password grant without Attempts: no error")
	}
	b.Attempts = e.store
	if _, err := oidc.NewToken(s, b); err != nil {
		t.Errorf("password grant with Attempts: %v", err)
	}
}
