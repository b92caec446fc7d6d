package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestDPoPCodeFlow: a public client's code flow with a DPoP proof gets a
// DPoP-bound access token (token_type DPoP, cnf.jkt its key's
// thumbprint), which userinfo accepts with the DPoP scheme and a proof
// with ath, and refuses in every other form (RFC 9449 §5, §6, §7).
func TestDPoPCodeFlow(t *testing.T) {
	e := newEnv(t)
	key, other := newDPoPKey(t), newDPoPKey(t)
	tokenURL, userinfoURL := e.issuer+oidc.PathToken, e.issuer+oidc.PathUserInfo
	code, verifier := e.pkceCode(publicID)
	form := codeForm(code, verifier)
	form.Set("client_id", publicID)
	status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", key.proof(t, "POST", tokenURL, "", e.clock.Now(), nil))
	if status != 200 || body["token_type"] != oidc.TokenTypeDPoP {
		t.Fatalf("token = %d %v; want 200 with token_type DPoP", status, body)
	}
	at := body["access_token"].(string)
	if cnf, _ := accessClaims(t, at)["cnf"].(map[string]any); cnf["jkt"] != key.jkt {
		t.Fatalf("cnf = %v; want jkt %s", cnf, key.jkt)
	}

	now := e.clock.Now()
	status, info, _ := e.userinfoDPoP("DPoP", at, key.proof(t, "GET", userinfoURL, at, now, nil))
	if status != 200 || info["sub"] != userSubject {
		t.Fatalf("userinfo = %d %v; want the user", status, info)
	}
	replayed := key.proof(t, "GET", userinfoURL, at, now, nil)
	e.userinfoDPoP("DPoP", at, replayed)
	refusals := []struct {
		name, scheme, proof, wantError string
	}{
		{"bound token as Bearer", "Bearer", "", oidc.ErrCodeInvalidToken},
		{"bound token as Bearer with a proof", "Bearer", key.proof(t, "GET", userinfoURL, at, now, nil), oidc.ErrCodeInvalidToken},
		{"no proof", "DPoP", "", oidc.ErrCodeInvalidDPoPProof},
		{"proof by another key", "DPoP", other.proof(t, "GET", userinfoURL, at, now, nil), oidc.ErrCodeInvalidDPoPProof},
		{"wrong ath", "DPoP", key.proof(t, "GET", userinfoURL, "another token", now, nil), oidc.ErrCodeInvalidDPoPProof},
		{"no ath", "DPoP", key.proof(t, "GET", userinfoURL, "", now, nil), oidc.ErrCodeInvalidDPoPProof},
		{"replayed jti", "DPoP", replayed, oidc.ErrCodeInvalidDPoPProof},
		{"wrong htm", "DPoP", key.proof(t, "POST", userinfoURL, at, now, nil), oidc.ErrCodeInvalidDPoPProof},
		{"the token endpoint's htu", "DPoP", key.proof(t, "GET", tokenURL, at, now, nil), oidc.ErrCodeInvalidDPoPProof},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			var proofs []string
			if tt.proof != "" {
				proofs = append(proofs, tt.proof)
			}
			status, _, h := e.userinfoDPoP(tt.scheme, at, proofs...)
			challenge := h.Get("WWW-Authenticate")
			if status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "DPoP ") || !strings.Contains(challenge, `error="`+tt.wantError+`"`) {
				t.Errorf("= %d %q; want 401 with a DPoP challenge, error %s", status, challenge, tt.wantError)
			}
		})
	}

	// RFC 9449 §5: the public client's refresh token is bound to the key.
	e.refreshDPoP(t, key, other)
}

// refreshDPoP proves the refresh of a public client's bound family:
// without a proof or with another key, invalid_grant; with its key, a new
// bound token.
func (e *env) refreshDPoP(t *testing.T, key, other *dpopKey) {
	tokenURL := e.issuer + oidc.PathToken
	params := authParams()
	verifier, challenge := pkcePair()
	params.Set("client_id", publicID)
	params.Set("scope", "openid offline_access")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	form := codeForm(e.code(params), verifier)
	form.Set("client_id", publicID)
	status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", key.proof(t, "POST", tokenURL, "", e.clock.Now(), nil))
	rt, _ := body["refresh_token"].(string)
	if status != 200 || rt == "" {
		t.Fatalf("token = %d %v; want a refresh token", status, body)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {publicID}}
	for name, proofs := range map[string][]string{
		"without a proof":  nil,
		"with another key": {other.proof(t, "POST", tokenURL, "", e.clock.Now(), nil)},
	} {
		if status, body, _ := e.postDPoP(oidc.PathToken, refresh, "", "", proofs...); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
			t.Errorf("refresh %s = %d %v; want invalid_grant", name, status, body)
		}
	}
	status, body, _ = e.postDPoP(oidc.PathToken, refresh, "", "", key.proof(t, "POST", tokenURL, "", e.clock.Now(), nil))
	if status != 200 || body["token_type"] != oidc.TokenTypeDPoP || body["refresh_token"] == rt {
		t.Fatalf("refresh with the key = %d %v; want a rotated DPoP token set", status, body)
	}
}

// TestDPoPProofRefusals: every malformed or misused proof at the token
// endpoint is 400 invalid_dpop_proof, and leaves the code redeemable
// (RFC 9449 §4.3, §5).
func TestDPoPProofRefusals(t *testing.T) {
	e := newEnv(t)
	key := newDPoPKey(t)
	u := e.issuer + oidc.PathToken
	now := e.clock.Now()
	code, verifier := e.pkceCode(confidentialID)
	form := codeForm(code, verifier)
	used := key.proof(t, "POST", u, "", now, nil)
	e.postDPoP(oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, confidentialID, confidentialSecret, used)
	tests := []struct {
		name   string
		proofs []string
	}{
		{"replayed jti", []string{used}},
		{"wrong htm", []string{key.proof(t, "PUT", u, "", now, nil)}},
		{"wrong htu", []string{key.proof(t, "POST", e.issuer+oidc.PathUserInfo, "", now, nil)}},
		{"htu of another host", []string{key.proof(t, "POST", "https://evil.example"+oidc.PathToken, "", now, nil)}},
		{"stale iat", []string{key.proof(t, "POST", u, "", now.Add(-2*time.Minute), nil)}},
		{"future iat", []string{key.proof(t, "POST", u, "", now.Add(2*time.Minute), nil)}},
		{"no iat", []string{key.proof(t, "POST", u, "", now, func(_, c map[string]any) { delete(c, "iat") })}},
		{"no jti", []string{key.proof(t, "POST", u, "", now, func(_, c map[string]any) { delete(c, "jti") })}},
		{"private key in the jwk", []string{key.proof(t, "POST", u, "", now, func(h, _ map[string]any) { h["jwk"] = key.privateJWK() })}},
		{"alg none", []string{key.proof(t, "POST", u, "", now, func(h, _ map[string]any) { h["alg"] = "none" })}},
		{"HS256", []string{key.proof(t, "POST", u, "", now, func(h, _ map[string]any) {
			h["alg"], h["jwk"] = "HS256", map[string]any{"kty": "oct", "k": "YSBzaGFyZWQgc2VjcmV0IGEgc2hhcmVkIHNlY3JldCE"}
		})}},
		{"wrong typ", []string{key.proof(t, "POST", u, "", now, func(h, _ map[string]any) { h["typ"] = "JWT" })}},
		{"no jwk", []string{key.proof(t, "POST", u, "", now, func(h, _ map[string]any) { delete(h, "jwk") })}},
		{"jwk of another key", []string{key.proof(t, "POST", u, "", now, func(h, _ map[string]any) { h["jwk"] = newDPoPKey(t).jwk })}},
		{"two DPoP headers", []string{key.proof(t, "POST", u, "", now, nil), key.proof(t, "POST", u, "", now, nil)}},
		{"not a JWS", []string{"not-a-jws"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := e.postDPoP(oidc.PathToken, form, confidentialID, confidentialSecret, tt.proofs...)
			if status != 400 || body["error"] != oidc.ErrCodeInvalidDPoPProof {
				t.Errorf("= %d %v; want 400 invalid_dpop_proof", status, body)
			}
		})
	}
	// A query or fragment in htu is ignored (§4.3 check 9); the code was
	// never consumed by the refusals.
	ok := key.proof(t, "POST", strings.Replace(u, "http://", "HTTP://", 1)+"?x=1#f", "", now.Add(30*time.Second), nil)
	status, body, _ := e.postDPoP(oidc.PathToken, form, confidentialID, confidentialSecret, ok)
	if status != 200 || body["token_type"] != oidc.TokenTypeDPoP {
		t.Fatalf("valid proof = %d %v; want a DPoP token", status, body)
	}
	// RFC 9449 §6.2: introspection shows the binding.
	_, intro, _ := e.postDPoP(oidc.PathIntrospect, url.Values{"token": {body["access_token"].(string)}}, confidentialID, confidentialSecret)
	if cnf, _ := intro["cnf"].(map[string]any); intro["active"] != true || cnf["jkt"] != key.jkt || intro["token_type"] != oidc.TokenTypeDPoP {
		t.Errorf("introspection = %v; want active with cnf.jkt %s", intro, key.jkt)
	}
}

// TestDPoPJKT: dpop_jkt at the authorization endpoint binds the code to
// that key (RFC 9449 §10).
func TestDPoPJKT(t *testing.T) {
	e := newEnv(t)
	key, other := newDPoPKey(t), newDPoPKey(t)
	u := e.issuer + oidc.PathToken
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	params.Set("dpop_jkt", key.jkt)
	form := codeForm(e.code(params), verifier)
	for name, proofs := range map[string][]string{"without a proof": nil, "with another key": {other.proof(t, "POST", u, "", e.clock.Now(), nil)}} {
		if status, body, _ := e.postDPoP(oidc.PathToken, form, confidentialID, confidentialSecret, proofs...); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
			t.Errorf("%s = %d %v; want invalid_grant", name, status, body)
		}
	}
	status, body, _ := e.postDPoP(oidc.PathToken, form, confidentialID, confidentialSecret, key.proof(t, "POST", u, "", e.clock.Now(), nil))
	if status != 200 || body["token_type"] != oidc.TokenTypeDPoP {
		t.Fatalf("with the key = %d %v; want a DPoP token", status, body)
	}
	params.Set("dpop_jkt", "not a thumbprint")
	p := e.get(e.browser(), oidc.PathAuthorize, params)
	if loc := mustParse(t, p.header.Get("Location")); p.status != http.StatusFound || loc.Query().Get("error") != oidc.ErrCodeInvalidRequest {
		t.Errorf("malformed dpop_jkt: %d %s; want a redirect with invalid_request", p.status, loc)
	}
}

// TestDPoPNonce: with nonces required, a proof without the server's
// nonce is use_dpop_nonce with a DPoP-Nonce header, and the retry with it
// succeeds (RFC 9449 §8); userinfo asks for it the same way (§9).
func TestDPoPNonce(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) {
		c.DPoP = oidc.DPoPPolicy{RequireNonce: true, NonceKey: []byte(strings.Repeat("k", 32))}
	})
	key := newDPoPKey(t)
	u := e.issuer + oidc.PathToken
	code, verifier := e.pkceCode(confidentialID)
	form := codeForm(code, verifier)
	status, body, h := e.postDPoP(oidc.PathToken, form, confidentialID, confidentialSecret, key.proof(t, "POST", u, "", e.clock.Now(), nil))
	nonce := h.Get(oidc.HeaderDPoPNonce)
	if status != 400 || body["error"] != oidc.ErrCodeUseDPoPNonce || nonce == "" {
		t.Fatalf("= %d %v nonce %q; want use_dpop_nonce with a DPoP-Nonce", status, body, nonce)
	}
	withNonce := func(n string) func(_, c map[string]any) { return func(_, c map[string]any) { c["nonce"] = n } }
	if status, body, _ := e.postDPoP(oidc.PathToken, form, confidentialID, confidentialSecret, key.proof(t, "POST", u, "", e.clock.Now(), withNonce(nonce+"x"))); body["error"] != oidc.ErrCodeUseDPoPNonce {
		t.Fatalf("forged nonce = %d %v; want use_dpop_nonce", status, body)
	}
	status, body, _ = e.postDPoP(oidc.PathToken, form, confidentialID, confidentialSecret, key.proof(t, "POST", u, "", e.clock.Now(), withNonce(nonce)))
	if status != 200 {
		t.Fatalf("with the nonce = %d %v", status, body)
	}
	at := body["access_token"].(string)
	e.clock.Advance(11 * time.Minute) // two nonce periods: the nonce is too old
	ui := e.issuer + oidc.PathUserInfo
	status, _, h = e.userinfoDPoP("DPoP", at, key.proof(t, "GET", ui, at, e.clock.Now(), withNonce(nonce)))
	if status != 401 || !strings.Contains(h.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) || h.Get(oidc.HeaderDPoPNonce) == "" {
		t.Fatalf("userinfo with an old nonce = %d %q; want 401 use_dpop_nonce", status, h.Get("WWW-Authenticate"))
	}
}

// TestDPoPRequiredClient: a client with RequireDPoP gets no token without
// a proof (RFC 9449 §5.2.1); discovery lists the proof algorithms.
func TestDPoPRequiredClient(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) {
		c.GrantTypes = append(append([]string{}, oidc.DefaultGrantTypes...), oidc.GrantClientCredentials)
	})
	e.store.PutClient(oidc.Client{ID: "dpop-only", SecretHash: oidc.HashSecret(otherSecret), RedirectURIs: []string{redirectURI},
		GrantTypes: []string{oidc.GrantClientCredentials}, RequireDPoP: true})
	form := url.Values{"grant_type": {oidc.GrantClientCredentials}}
	if status, body, _ := e.postDPoP(oidc.PathToken, form, "dpop-only", otherSecret); status != 400 || body["error"] != oidc.ErrCodeInvalidDPoPProof {
		t.Errorf("without a proof = %d %v; want invalid_dpop_proof", status, body)
	}
	key := newDPoPKey(t)
	status, body, _ := e.postDPoP(oidc.PathToken, form, "dpop-only", otherSecret, key.proof(t, "POST", e.issuer+oidc.PathToken, "", e.clock.Now(), nil))
	if status != 200 || body["token_type"] != oidc.TokenTypeDPoP {
		t.Errorf("with a proof = %d %v; want a DPoP token", status, body)
	}
	p := e.get(testClient, oidc.PathDiscovery, nil)
	if !strings.Contains(p.body, `"dpop_signing_alg_values_supported":["ES256","RS256","PS256","EdDSA"]`) {
		t.Errorf("discovery lacks dpop_signing_alg_values_supported: %s", p.body)
	}
}
