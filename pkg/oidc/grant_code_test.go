package oidc_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestCodeSingleUse(t *testing.T) {
	e := newEnv(t)
	code, verifier := e.pkceCode(confidentialID)
	status, body, header := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
	if status != 200 || body["access_token"] == nil || body["token_type"] != "Bearer" || body["id_token"] == nil {
		t.Fatalf("first redemption: %d %v", status, body)
	}
	if header.Get("Cache-Control") != "no-store" || header.Get("Pragma") != "no-cache" {
		t.Errorf("token response caching headers: %v", header)
	}
	status, body, _ = e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
	if status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("second redemption: %d %v; want invalid_grant", status, body)
	}
}

func TestCodeExpires(t *testing.T) {
	e := newEnv(t)
	code, verifier := e.pkceCode(confidentialID)
	e.clock.Advance(time.Minute)
	status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
	if status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("expired code: %d %v; want invalid_grant", status, body)
	}
}

// TestCodeReplayRevokesAccessTokens: RFC 6749 §4.1.2 — a replayed code
// revokes the tokens it issued, refresh token or not.
func TestCodeReplayRevokesAccessTokens(t *testing.T) {
	e := newEnv(t)
	code, verifier := e.pkceCode(confidentialID)
	status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
	if status != 200 {
		t.Fatal(status)
	}
	at := body["access_token"].(string)
	if p := e.userinfo(http.MethodGet, "Bearer "+at, ""); p.status != 200 {
		t.Fatalf("userinfo before the replay: %d", p.status)
	}
	// Another client replaying the code revokes nothing.
	if status, body, _ := e.token(codeForm(code, verifier), otherID, otherSecret); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("replay by another client: %d %v; want invalid_grant", status, body)
	}
	if p := e.userinfo(http.MethodGet, "Bearer "+at, ""); p.status != 200 {
		t.Errorf("a foreign client's replay revoked the tokens: %d", p.status)
	}
	if status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("replay: %d %v; want invalid_grant", status, body)
	}
	if p := e.userinfo(http.MethodGet, "Bearer "+at, ""); p.status != http.StatusUnauthorized {
		t.Errorf("userinfo after the replay: %d; want 401", p.status)
	}
}

func TestCodeReplayRevokesFamily(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("scope", "openid offline_access")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	code := e.code(params)
	status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
	if status != 200 {
		t.Fatal(status)
	}
	if status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("replay: %d %v; want invalid_grant", status, body)
	}
	if status, _ := e.refresh(body["refresh_token"].(string), nil); status != 400 {
		t.Errorf("refresh token of a replayed code still works: %d", status)
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

// TestConcurrentReplayRevokes: two redemptions of one code that race both
// read it unused; the loser's consuming write fails. RFC 6749 §4.1.2: the
// loser is a replay like a late one, so the winner's tokens are revoked:
// its access token fails at userinfo and introspection, its refresh token
// at the token endpoint. Every trial, not only when the loser is late.
func TestConcurrentReplayRevokes(t *testing.T) {
	for trial := range 5 {
		race := newBarrier(2)
		e := newEnv(t, func(c *oidc.Config) {
			c.Codes = racingStore{Store: c.Codes.(*memory.Store), codes: race}
		})
		params := authParams()
		params.Set("scope", "openid offline_access")
		code := e.code(params)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
		type result struct {
			status int
			body   map[string]any
		}
		results := make(chan result, 2)
		for range 2 {
			go func() {
				status, body, _, err := e.tryToken(form, confidentialID, confidentialSecret)
				if err != nil {
					t.Errorf("token request: %v", err)
				}
				results <- result{status, body}
			}()
		}
		var winner map[string]any
		for range 2 {
			r := <-results
			if r.status == http.StatusOK {
				winner = r.body
			} else if r.body["error"] != oidc.ErrCodeInvalidGrant {
				t.Errorf("trial %d: loser got %d %v; want invalid_grant", trial, r.status, r.body)
			}
		}
		if winner == nil {
			t.Fatalf("trial %d: no redemption succeeded", trial)
		}
		at, _ := winner["access_token"].(string)
		if p := e.userinfo(http.MethodGet, "Bearer "+at, ""); p.status != http.StatusUnauthorized {
			t.Errorf("trial %d: the winner's access token still works at userinfo: %d %s", trial, p.status, p.body)
		}
		rt, _ := winner["refresh_token"].(string)
		status, body, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, confidentialID, confidentialSecret)
		if status != http.StatusBadRequest || body["error"] != oidc.ErrCodeInvalidGrant {
			t.Errorf("trial %d: the winner's refresh token still works: %d %v", trial, status, body["error"])
		}
	}
}

// TestNoRefreshTokenForClientWithoutRefreshGrant: a client whose grantTypes
// leave out refresh_token gets no refresh token from its codes, even with
// offline_access: it could not use it.
func TestNoRefreshTokenForClientWithoutRefreshGrant(t *testing.T) {
	e := newEnv(t)
	e.store.PutClient(oidc.Client{ID: "no-refresh", SecretHash: oidc.HashSecret("s"), RedirectURIs: []string{redirectURI},
		GrantTypes: []string{oidc.GrantAuthorizationCode}})
	params := authParams()
	params.Set("client_id", "no-refresh")
	params.Set("scope", "openid offline_access")
	code := e.code(params)
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, "no-refresh", "s")
	if status != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("code exchange: %d %v", status, body["error"])
	}
	if _, ok := body["refresh_token"]; ok {
		t.Error("a client without the refresh_token grant got a refresh token")
	}
}
