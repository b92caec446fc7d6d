package oidc_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func b64j(v any) string { raw, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(raw) }

// R1: a request object pinned to PS256 (client RequestObjectSigningAlg) is accepted when
// signed RS256, by a header with a case-variant duplicate "Alg".
func TestRegressionRequestObjectAlgPinBypass(t *testing.T) {
	e := newEnv(t)
	key := newJWTKey(t, jose.PS256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt", RequestObjectSigningAlg: "PS256"})
	claims := objectClaims(e.issuer, e.clock.Now())
	// control: plain RS256 must be refused
	plain := signJWT(t, jose.RS256, key.signer, "k1", claims)
	q := url.Values{"client_id": {jwtClientID}, "redirect_uri": {redirectURI}, "request": {plain}}
	p := e.get(e.browser(), oidc.PathAuthorize, q)
	t.Logf("plain RS256: %d %s", p.status, p.header.Get("Location"))
	// header: {"alg":"RS256","kid":"k1","Alg":"PS256"} raw bytes, order matters
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","Alg":"PS256"}`))
	claims = objectClaims(e.issuer, e.clock.Now())
	input := h + "." + b64j(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key.signer.(*rsa.PrivateKey), crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	obj := input + "." + base64.RawURLEncoding.EncodeToString(sig)
	q.Set("request", obj)
	p = e.get(e.browser(), oidc.PathAuthorize, q)
	t.Logf("dup-key RS256: %d loc=%s body~%.200s", p.status, p.header.Get("Location"), p.body)
	if p.status == http.StatusOK && strings.Contains(p.body, `name="req"`) {
		t.Errorf("RS256 request object accepted for a client pinned to PS256")
	}
}

// R2: a logout+jwt token (or any non-at+jwt token of the provider with exp) is accepted as id_token_hint.
func TestRegressionLogoutTokenAsHint(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	key, err := testSigner.SigningKey(ctx, oidc.RS256)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	h := b64j(map[string]any{"alg": "RS256", "kid": key.KeyID, "typ": "logout+jwt"})
	c := b64j(map[string]any{"iss": e.issuer, "sub": userSubject, "aud": []string{confidentialID}, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "x",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}})
	sig, err := testSigner.Sign(ctx, key.KeyID, []byte(h+"."+c))
	if err != nil {
		t.Fatal(err)
	}
	tok := h + "." + c + "." + base64.RawURLEncoding.EncodeToString(sig)
	q := authParams()
	q.Set("id_token_hint", tok)
	p := e.get(e.browser(), oidc.PathAuthorize, q)
	t.Logf("authorize with logout token hint: %d %.200s", p.status, p.header.Get("Location"))
	if p.status == http.StatusOK {
		t.Errorf("a logout+jwt token is accepted as id_token_hint")
	}
	p = e.get(e.browser(), oidc.PathLogout, url.Values{"id_token_hint": {tok}})
	t.Logf("logout with logout token hint: %d %.300s", p.status, p.body)
}

// R3: a FAPI client whose stored grants are all outside the profile gets the default grants (device code).
func TestRegressionFAPIGrantWidening(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) { c.Settings.IDTokenSigningAlgorithms = []string{oidc.RS256, oidc.ES256} })
	key := newJWTKey(t, jose.PS256, "fapi-key")
	e.store.PutClient(oidc.Client{ID: fapiID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt",
		Profile: oidc.ProfileFAPI2, GrantTypes: []string{oidc.GrantPassword}})
	form := e.fapiTokenForm(t, key, url.Values{"scope": {"openid"}})
	status, body, _ := e.postDPoP(oidc.PathDeviceCode, form, "", "")
	t.Logf("device authorization for FAPI client with grantTypes [password]: %d %v", status, body)
	if status == http.StatusOK {
		t.Errorf("FAPI client got a device code (no PAR, no PKCE)")
	}
}

// R4: PS256 client assertion with a non-32-byte salt is accepted.
func TestRegressionAssertionPSSSalt(t *testing.T) {
	e := newEnv(t)
	key := newJWTKey(t, jose.PS256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"})
	now := e.clock.Now()
	h := b64j(map[string]any{"alg": "PS256", "kid": "k1"})
	c := b64j(map[string]any{"iss": jwtClientID, "sub": jwtClientID, "aud": e.issuer, "jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	sum := sha256.Sum256([]byte(h + "." + c))
	sig, err := rsa.SignPSS(rand.Reader, key.signer.(*rsa.PrivateKey), crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: 0})
	if err != nil {
		t.Fatal(err)
	}
	form := assertionForm(h + "." + c + "." + base64.RawURLEncoding.EncodeToString(sig))
	status, body := e.introspectAs(form)
	t.Logf("introspect with salt-0 PS256 assertion: %d %v", status, body)
	if status == http.StatusOK {
		t.Errorf("RFC 7518 §3.5: PS256 with a 0-byte salt accepted")
	}
}

// R5: a DPoP proof signed RS256 with a 1024-bit key is accepted for a FAPI client.
func TestRegressionFAPIDPoPWeakRSA(t *testing.T) {
	e, key := fapiEnv(t, true)
	priv, _ := rsa.GenerateKey(rand.Reader, 1024)
	jwk := map[string]any{"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(priv.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes())}
	now := e.clock.Now()
	h := b64j(map[string]any{"typ": "dpop+jwt", "alg": "RS256", "jwk": jwk})
	c := b64j(map[string]any{"jti": rand.Text(), "htm": "POST", "htu": e.issuer + oidc.PathToken, "iat": now.Unix()})
	sum := sha256.Sum256([]byte(h + "." + c))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
	proof := h + "." + c + "." + base64.RawURLEncoding.EncodeToString(sig)
	verifier, _ := pkcePair()
	form := e.fapiTokenForm(t, key, codeForm(e.fapiCode(t, key, fapiAuthParams()), verifier))
	status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", proof)
	t.Logf("FAPI token with RS256/1024 DPoP: %d %v", status, body["token_type"])
	if status == http.StatusOK {
		t.Errorf("FAPI client token bound to a 1024-bit RS256 DPoP key")
	}
}

// R6: per-client FAPI with an RS256-only provider: the FAPI client's token request is a 500.
func TestRegressionFAPIClientNoFAPIAlg(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) { c.Settings.IDTokenSigningAlgorithms = []string{oidc.RS256} })
	key := newJWTKey(t, jose.PS256, "fapi-key")
	e.store.PutClient(oidc.Client{ID: fapiID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt", Profile: oidc.ProfileFAPI2})
	dpop := newDPoPKey(t)
	verifier, _ := pkcePair()
	form := e.fapiTokenForm(t, key, codeForm(e.fapiCode(t, key, fapiAuthParams()), verifier))
	status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", dpop.proof(t, "POST", e.issuer+oidc.PathToken, "", e.clock.Now(), nil))
	if status == http.StatusOK {
		// No FAPI algorithm to sign with: never an RS256 ID token.
		t.Fatalf("token: %d %v; want no tokens", status, body)
	}
}

// R7: one JWT serves both as a request object (front channel) and as a client assertion:
// no typ separation, and the two jti replay namespaces are distinct.
func TestRegressionRequestObjectAsAssertion(t *testing.T) {
	e := newEnv(t)
	key := newJWTKey(t, jose.ES256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"})
	c := objectClaims(e.issuer, e.clock.Now())
	c["sub"] = jwtClientID
	c["exp"] = e.clock.Now().Add(2 * time.Minute).Unix()
	obj := key.object(t, c) // typ oauth-authz-req+jwt
	q := url.Values{"client_id": {jwtClientID}, "redirect_uri": {redirectURI}, "request": {obj}}
	p := e.get(e.browser(), oidc.PathAuthorize, q)
	t.Logf("as request object: %d", p.status)
	status, body := e.introspectAs(assertionForm(obj))
	t.Logf("same JWT as client_assertion after use as request object: %d %v", status, body)
	if status == http.StatusOK {
		t.Errorf("request object (typ oauth-authz-req+jwt) accepted as a client assertion")
	}
}

// R8: provider-wide FAPI refuses a resource server whose access tokens
// would be RS256 (FAPI 2.0 §5.4.1).
func TestRegressionFAPIResourceRS256(t *testing.T) {
	_, err := oidc.NewDiscovery(oidc.Settings{Issuer: "https://op.example.com", Profile: oidc.ProfileFAPI2,
		ResourceServers: []oidc.ResourceServer{{ID: "https://api.example.com", Name: "API", Scopes: []oidc.APIScope{{Name: "read"}}, AllowedClients: []string{fapiID}, SigningAlg: oidc.RS256}}})
	if err == nil || !strings.Contains(err.Error(), "RS256") {
		t.Fatalf("settings with an RS256 resource server under FAPI 2.0: %v; want refused", err)
	}
}
