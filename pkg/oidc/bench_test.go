package oidc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Benchmarks drive the handler in process (no network), so they measure the
// protocol core: parsing, validation, hashing, JWT signing and verification.
// With the memory store and local keys (RSA-2048 for ID tokens, P-256 for
// access tokens), signing dominates.

func benchEnv(b *testing.B) (*env, http.Handler) {
	e := newEnv(b)
	return e, e.provider.Handler()
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func BenchmarkDiscovery(b *testing.B) {
	e, h := benchEnv(b)
	req := httptest.NewRequest(http.MethodGet, e.issuer+oidc.PathDiscovery, nil)
	for b.Loop() {
		if rec := serve(h, req); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkAuthorizeLoginPage(b *testing.B) {
	e, h := benchEnv(b)
	_, challenge := pkcePair()
	params := authParams()
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	target := e.issuer + oidc.PathAuthorize + "?" + params.Encode()
	for b.Loop() {
		if rec := serve(h, httptest.NewRequest(http.MethodGet, target, nil)); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkTokenCodeExchange redeems a fresh code per iteration: client
// authentication, PKCE, two RS256 signatures, the single-use write.
func BenchmarkTokenCodeExchange(b *testing.B) {
	e, h := benchEnv(b)
	verifier, challenge := pkcePair()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		code := "bench-code-" + strconv.Itoa(i)
		if err := e.store.CreateCode(ctx, oidc.AuthCode{
			ID: oidc.HashSecret(code), ClientID: confidentialID, RedirectURI: redirectURI, Subject: userSubject,
			Scopes: []string{"openid", "email", "profile"}, AuthTime: e.clock.Now(), AMR: []string{"pwd"},
			CodeChallenge: challenge, CodeChallengeMethod: "S256", Expiry: e.clock.Now().Add(time.Minute),
		}); err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, e.issuer+oidc.PathToken, strings.NewReader(codeForm(code, verifier).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(confidentialID, confidentialSecret)
		b.StartTimer()
		if rec := serve(h, req); rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

// BenchmarkUserInfo verifies an RS256 access token and answers claims.
func BenchmarkUserInfo(b *testing.B) {
	e, h := benchEnv(b)
	verifier, challenge := pkcePair()
	code := "bench-code"
	_ = e.store.CreateCode(context.Background(), oidc.AuthCode{
		ID: oidc.HashSecret(code), ClientID: confidentialID, RedirectURI: redirectURI, Subject: userSubject,
		Scopes: []string{"openid", "email"}, AuthTime: e.clock.Now(), CodeChallenge: challenge, CodeChallengeMethod: "S256",
		Expiry: e.clock.Now().Add(time.Minute),
	})
	req := httptest.NewRequest(http.MethodPost, e.issuer+oidc.PathToken, strings.NewReader(codeForm(code, verifier).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(confidentialID, confidentialSecret)
	rec := serve(h, req)
	at := decodeJSON(b, rec.Body.String())["access_token"].(string)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, e.issuer+oidc.PathUserInfo, nil)
		req.Header.Set("Authorization", "Bearer "+at)
		if rec := serve(h, req); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkRefresh rotates a refresh token per iteration: an ES256 access
// token and an RS256 ID token.
func BenchmarkRefresh(b *testing.B) {
	e, h := benchEnv(b)
	benchRefresh(b, e, h)
}

// BenchmarkRefreshES256IDToken is BenchmarkRefresh for a client with
// ES256 ID tokens: no RSA signature at all.
func BenchmarkRefreshES256IDToken(b *testing.B) {
	e := newEnv(b, func(c *oidc.Config) {
		c.Settings.IDTokenSigningAlgorithms = []string{oidc.RS256, oidc.ES256}
	})
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}, IDTokenSigningAlg: oidc.ES256})
	benchRefresh(b, e, e.provider.Handler())
}

// BenchmarkRefreshNoIDToken is BenchmarkRefresh for a client whose
// refresh responses carry no ID token (refreshIDToken: false).
func BenchmarkRefreshNoIDToken(b *testing.B) {
	e, h := benchEnv(b)
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}, OmitRefreshIDToken: true})
	benchRefresh(b, e, h)
}

func benchRefresh(b *testing.B, e *env, h http.Handler) {
	rt := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
	for b.Loop() {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		req := httptest.NewRequest(http.MethodPost, e.issuer+oidc.PathToken, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(confidentialID, confidentialSecret)
		rec := serve(h, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
		rt = decodeJSON(b, rec.Body.String())["refresh_token"].(string)
	}
}

// BenchmarkRefreshFederated is BenchmarkRefresh for a grant of a callback
// connector's user: the grant's sealed copy opened and sealed again, and
// the identity record written beside; UpstreamRefresh off, so no upstream.
func BenchmarkRefreshFederated(b *testing.B) {
	e, sc := upstreamEnv(b, func(c *oidc.Config) { c.SkipApprovalScreen = true; c.Connectors[1].UpstreamRefresh = false })
	sc.logins["good"] = corpUser
	benchFederatedRefresh(b, e)
}

// BenchmarkRefreshFederatedUpstream is BenchmarkRefreshFederated with the
// connector asked again at every refresh (a connector of this test that
// answers at once: the upstream's own time is not the provider's CPU).
func BenchmarkRefreshFederatedUpstream(b *testing.B) {
	e, sc := upstreamEnv(b, func(c *oidc.Config) { c.SkipApprovalScreen = true })
	sc.logins["good"] = corpUser
	benchFederatedRefresh(b, e)
}

func benchFederatedRefresh(b *testing.B, e *env) {
	rt := e.federatedGrant(e.browser(), confidentialID, confidentialSecret, "openid email groups offline_access")["refresh_token"].(string)
	h := e.provider.Handler()
	for b.Loop() {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		req := httptest.NewRequest(http.MethodPost, e.issuer+oidc.PathToken, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(confidentialID, confidentialSecret)
		rec := serve(h, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
		rt = decodeJSON(b, rec.Body.String())["refresh_token"].(string)
	}
}
