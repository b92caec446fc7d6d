package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/store/memory"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/serverless-oidc/op/pkg/oidc"
	"golang.org/x/oauth2"
)

// offlineTokens logs in with offline_access and returns the token response.
func (e *env) offlineTokens(clientID, secret string) map[string]any {
	e.t.Helper()
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", clientID)
	params.Set("scope", "openid email offline_access")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	code := e.code(params)
	form := codeForm(code, verifier)
	id, sec := clientID, secret
	if secret == "" {
		form.Set("client_id", clientID)
		id = ""
	}
	status, body, _ := e.token(form, id, sec)
	if status != 200 {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return body
}

func (e *env) refresh(token string, extra url.Values) (int, map[string]any) {
	e.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	for k, v := range extra {
		form[k] = v
	}
	status, body, _ := e.token(form, confidentialID, confidentialSecret)
	return status, body
}

func TestRefreshIssuedOnlyWithOfflineAccess(t *testing.T) {
	e := newEnv(t)
	if body := e.tokens(); body["refresh_token"] != nil {
		t.Errorf("refresh token issued without offline_access")
	}
	if body := e.offlineTokens(confidentialID, confidentialSecret); body["refresh_token"] == nil {
		t.Errorf("no refresh token with offline_access")
	}
	d := newEnv(t, func(c *oidc.Config) { c.GrantTypes = []string{"authorization_code"} })
	if body := d.offlineTokens(confidentialID, confidentialSecret); body["refresh_token"] != nil {
		t.Errorf("refresh token issued with the refresh_token grant disabled")
	}
	if status, body := d.refresh("x.y", nil); status != 400 || body["error"] != oidc.ErrCodeUnsupportedGrantType {
		t.Errorf("disabled grant: %d %v", status, body)
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	first := e.offlineTokens(confidentialID, confidentialSecret)
	rt1 := first["refresh_token"].(string)
	firstClaims := e.verifyIDToken(first["id_token"].(string), confidentialID)

	e.clock.Advance(10 * time.Second)
	status, second := e.refresh(rt1, nil)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, second)
	}
	rt2 := second["refresh_token"].(string)
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("refresh token not rotated")
	}
	claims := e.verifyIDToken(second["id_token"].(string), confidentialID)
	if claims["sub"] != firstClaims["sub"] || claims["auth_time"] != firstClaims["auth_time"] || claims["nonce"] != nil {
		t.Errorf("refreshed ID token: sub %v auth_time %v nonce %v", claims["sub"], claims["auth_time"], claims["nonce"])
	}
	if claims["iat"] == firstClaims["iat"] || claims["at_hash"] != leftHalf(second["access_token"].(string)) {
		t.Errorf("refreshed ID token: iat %v (was %v), at_hash %v", claims["iat"], firstClaims["iat"], claims["at_hash"])
	}
	if second["scope"] != "openid email offline_access" {
		t.Errorf("scope = %v", second["scope"])
	}

	// Within the reuse interval the previous token returns the same successor.
	status, again := e.refresh(rt1, nil)
	if status != 200 || again["refresh_token"] != rt2 {
		t.Fatalf("retry within the reuse interval: %d, successor %v; want %s", status, again["refresh_token"], rt2)
	}
	// The successor works and rotates again.
	status, third := e.refresh(rt2, nil)
	if status != 200 {
		t.Fatalf("refresh with the successor: %d %v", status, third)
	}
	rt3 := third["refresh_token"].(string)

	// Theft: the long-rotated rt1 comes back. The family is revoked: the
	// current token stops working too, and so do its access tokens.
	e.clock.Advance(4 * time.Second)
	if status, body := e.refresh(rt1, nil); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Fatalf("reused token: %d %v; want invalid_grant", status, body)
	}
	if status, body := e.refresh(rt3, nil); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("current token after reuse detection: %d %v; want invalid_grant", status, body)
	}
	if p := e.userinfo(http.MethodGet, "Bearer "+third["access_token"].(string), ""); p.status != http.StatusUnauthorized {
		t.Errorf("access token of a revoked family: userinfo %d; want 401", p.status)
	}
}

// TestRefreshTheft: attacker and user both hold the token; whoever comes
// second after the reuse interval locks both out.
func TestRefreshTheft(t *testing.T) {
	e := newEnv(t)
	stolen := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
	status, attacker := e.refresh(stolen, nil)
	if status != 200 {
		t.Fatalf("attacker refresh: %d", status)
	}
	e.clock.Advance(time.Minute)
	if status, _ := e.refresh(stolen, nil); status != 400 {
		t.Errorf("user refresh with the rotated token: %d; want 400", status)
	}
	if status, _ := e.refresh(attacker["refresh_token"].(string), nil); status != 400 {
		t.Errorf("attacker's successor still works after reuse detection")
	}
}

func TestRefreshScope(t *testing.T) {
	e := newEnv(t)
	rt := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
	if status, body := e.refresh(rt, url.Values{"scope": {"openid email profile"}}); status != 400 || body["error"] != oidc.ErrCodeInvalidScope {
		t.Errorf("widening: %d %v; want invalid_scope", status, body)
	}
	status, body := e.refresh(rt, url.Values{"scope": {"openid"}})
	if status != 200 || body["scope"] != "openid" {
		t.Fatalf("narrowing: %d %v", status, body)
	}
	if claims := e.verifyIDToken(body["id_token"].(string), confidentialID); claims["email"] != nil {
		t.Errorf("narrowed ID token still has email")
	}
	// RFC 6749 §6: the new refresh token keeps the original scope.
	status, body = e.refresh(body["refresh_token"].(string), nil)
	if status != 200 || body["scope"] != "openid email offline_access" {
		t.Errorf("after narrowing: %d scope %v", status, body["scope"])
	}
	// OpenID Connect Core §12.2: a scope without openid is plain OAuth, so
	// the answer carries no ID token; the access token still works.
	status, body = e.refresh(body["refresh_token"].(string), url.Values{"scope": {"email offline_access"}})
	if status != 200 || body["scope"] != "email offline_access" || body["access_token"] == nil {
		t.Fatalf("narrowing to leave openid out: %d %v", status, body["error"])
	}
	if _, ok := body["id_token"]; ok {
		t.Errorf("a refresh without openid returned an ID token")
	}
	// Such a token is plain OAuth: userinfo refuses it (OpenID Connect Core
	// §5.3; RFC 6750 §3.1).
	p := e.userinfo(http.MethodGet, "Bearer "+body["access_token"].(string), "")
	if p.status != http.StatusForbidden || !strings.Contains(p.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("userinfo with a token without openid: %d %q; want 403 insufficient_scope", p.status, p.header.Get("WWW-Authenticate"))
	}
}

func TestRefreshErrors(t *testing.T) {
	e := newEnv(t)
	rt := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
	for name, tok := range map[string]string{
		"garbage":        "garbage",
		"unknown family": strings.Repeat("A", 43) + "." + strings.Repeat("B", 43),
	} {
		if status, body := e.refresh(tok, nil); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
			t.Errorf("%s: %d %v", name, status, body)
		}
	}
	if status, body := e.refresh("", nil); status != 400 || body["error"] != oidc.ErrCodeInvalidRequest {
		t.Errorf("missing token: %d %v", status, body)
	}
	status, body, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, otherID, otherSecret)
	if status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("another client: %d %v", status, body)
	}
	// A disabled user's refresh tokens stop working.
	u, _ := e.store.User(context.Background(), userID)
	u.Disabled = true
	putUser(e.t, e.store, u)
	if status, body := e.refresh(rt, nil); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("disabled user: %d %v", status, body)
	}
}

func TestRefreshExpirySettings(t *testing.T) {
	tests := []struct {
		name   string
		policy oidc.RefreshPolicy
		steps  []time.Duration // advance, then refresh with the latest token
		want   []int
	}{
		{"validIfNotUsedFor, used in time", oidc.RefreshPolicy{ValidIfNotUsedFor: time.Hour}, []time.Duration{59 * time.Minute, 59 * time.Minute}, []int{200, 200}},
		{"validIfNotUsedFor, idle too long", oidc.RefreshPolicy{ValidIfNotUsedFor: time.Hour}, []time.Duration{time.Hour}, []int{400}},
		{"absoluteLifetime, just inside", oidc.RefreshPolicy{AbsoluteLifetime: 2 * time.Hour}, []time.Duration{time.Hour, time.Hour - time.Second}, []int{200, 200}},
		{"absoluteLifetime, reached", oidc.RefreshPolicy{AbsoluteLifetime: 2 * time.Hour}, []time.Duration{time.Hour, time.Hour}, []int{200, 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *oidc.Config) { c.RefreshTokens = tt.policy })
			rt := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
			for i, d := range tt.steps {
				e.clock.Advance(d)
				status, body := e.refresh(rt, nil)
				if status != tt.want[i] {
					t.Fatalf("step %d: %d %v; want %d", i, status, body, tt.want[i])
				}
				if status == 200 {
					rt = body["refresh_token"].(string)
				}
			}
		})
	}
	t.Run("disableRotation", func(t *testing.T) {
		e := newEnv(t, func(c *oidc.Config) {
			c.RefreshTokens = oidc.RefreshPolicy{DisableRotation: true, ValidIfNotUsedFor: time.Hour}
		})
		rt := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
		for range 3 {
			e.clock.Advance(30 * time.Minute)
			status, body := e.refresh(rt, nil)
			if status != 200 || body["refresh_token"] != rt {
				t.Fatalf("%d, token %v; want the same token", status, body["refresh_token"])
			}
		}
	})
	t.Run("reuseInterval boundary", func(t *testing.T) {
		e := newEnv(t, func(c *oidc.Config) {
			c.RefreshTokens = oidc.RefreshPolicy{ValidIfNotUsedFor: time.Hour, ReuseInterval: 5 * time.Second}
		})
		rt1 := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
		_, body := e.refresh(rt1, nil)
		rt2 := body["refresh_token"].(string)
		e.clock.Advance(4 * time.Second)
		if status, body := e.refresh(rt1, nil); status != 200 || body["refresh_token"] != rt2 {
			t.Errorf("inside the interval: %d %v", status, body["refresh_token"])
		}
		e.clock.Advance(time.Second)
		if status, _ := e.refresh(rt1, nil); status != 400 {
			t.Errorf("at the interval's end: %d; want 400 (reuse)", status)
		}
	})
}

// TestRefreshConcurrent: 100 concurrent refreshes with one token yield one
// successor, returned to all (reuse interval), and the family lives on.
func TestRefreshConcurrent(t *testing.T) {
	const n = 100
	race := newBarrier(n)
	var rs *racingStore
	e := newEnv(t, func(c *oidc.Config) {
		rs = &racingStore{Store: c.Refresh.(*memory.Store)}
		c.Refresh = rs
	})
	rt := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
	rs.grants = race // every request reads the family before any rotates it
	var wg sync.WaitGroup
	var mu sync.Mutex
	successors := map[string]int{}
	failures := 0
	for range n {
		wg.Go(func() {
			status, body, _, err := e.tryToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, confidentialID, confidentialSecret)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || status != 200 {
				failures++
				return
			}
			successors[body["refresh_token"].(string)]++
		})
	}
	wg.Wait()
	if failures != 0 || len(successors) != 1 {
		t.Fatalf("%d failures, %d distinct successors; want 0 and 1", failures, len(successors))
	}
	for s := range successors {
		if status, _ := e.refresh(s, nil); status != 200 {
			t.Errorf("the successor does not work: %d", status)
		}
	}
}

// TestRefreshWithRelyingParty: x/oauth2's TokenSource refreshes an expired
// access token on its own.
func TestRefreshWithRelyingParty(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	rp := oauth2.Config{ClientID: confidentialID, ClientSecret: confidentialSecret, Endpoint: provider.Endpoint(), RedirectURL: redirectURI,
		Scopes: []string{gooidc.ScopeOpenID, "email", gooidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	loc := e.login(e.browser(), mustParse(t, rp.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n"))).Query())
	tok, err := rp.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	tok.Expiry = time.Now().Add(-time.Minute) // make the RP refresh
	fresh, err := rp.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("TokenSource refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken || fresh.RefreshToken == "" {
		t.Errorf("not refreshed and rotated")
	}
	if _, err := provider.Verifier(&gooidc.Config{ClientID: confidentialID, Now: e.clock.Now}).Verify(ctx, fresh.Extra("id_token").(string)); err != nil {
		t.Errorf("refreshed ID token: %v", err)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(fresh))
	if err != nil || info.Email != userEmail {
		t.Errorf("userinfo with the refreshed token: %v %v", info, err)
	}
}

// TestConcurrentSigning: with OmitTokenEndpointAtHash the token endpoint
// signs both tokens at once; a signer that lets two signatures overlap
// proves it.
func TestConcurrentSigning(t *testing.T) {
	signer := &overlapSigner{Signer: testSigner, release: make(chan struct{})}
	e := newEnv(t, func(c *oidc.Config) { c.OmitTokenEndpointAtHash = true; c.Signer = signer })
	code, verifier := e.pkceCode(confidentialID)
	signer.armed.Store(true)
	status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	if signer.maxInFlight.Load() != 2 {
		t.Errorf("at most %d signatures in flight; want 2 (concurrent)", signer.maxInFlight.Load())
	}
	claims := e.verifyIDToken(body["id_token"].(string), confidentialID)
	if claims["at_hash"] != nil {
		t.Errorf("at_hash present with OmitTokenEndpointAtHash")
	}
}

// overlapSigner holds each signature until a second one arrives (or a
// short timeout passes), recording how many overlapped.
type overlapSigner struct {
	oidc.Signer
	armed       atomic.Bool
	inFlight    atomic.Int32
	maxInFlight atomic.Int32
	release     chan struct{}
	once        sync.Once
}

func (s *overlapSigner) Sign(ctx context.Context, kid string, input []byte) ([]byte, error) {
	if s.armed.Load() {
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for m := s.maxInFlight.Load(); n > m && !s.maxInFlight.CompareAndSwap(m, n); m = s.maxInFlight.Load() {
		}
		if n >= 2 {
			s.once.Do(func() { close(s.release) })
		}
		// Hold until the second signature arrives; the timer only keeps a
		// sequential (broken) provider from hanging the test.
		select {
		case <-s.release:
		case <-time.After(20 * time.Second):
		}
	}
	return s.Signer.Sign(ctx, kid, input)
}
