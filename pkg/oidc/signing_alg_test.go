package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// jwsAlg is the "alg" of a compact JWS header.
func jwsAlg(t *testing.T, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg, Typ string }
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg
}

// verifyBoth checks the ID token and the access token of a token response
// with go-oidc against the provider's JWKS: each in its own algorithm.
func (e *env) verifyBoth(t *testing.T, body map[string]any, wantAT, wantID string) {
	t.Helper()
	ctx := gooidc.ClientContext(t.Context(), testClient)
	keys := gooidc.NewRemoteKeySet(ctx, e.issuer+oidc.PathJWKS)
	algs := []string{oidc.RS256, oidc.ES256, oidc.PS256}
	at, _ := body["access_token"].(string)
	if got := jwsAlg(t, at); got != wantAT {
		t.Errorf("access token alg %s; want %s", got, wantAT)
	}
	atv := gooidc.NewVerifier(e.issuer, keys, &gooidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: algs, Now: e.clock.Now})
	if _, err := atv.Verify(ctx, at); err != nil {
		t.Errorf("go-oidc rejects the access token: %v", err)
	}
	if wantID == "" {
		if body["id_token"] != nil {
			t.Errorf("an ID token in %v; want none", body)
		}
		return
	}
	idt, _ := body["id_token"].(string)
	if got := jwsAlg(t, idt); got != wantID {
		t.Errorf("ID token alg %s; want %s", got, wantID)
	}
	idv := gooidc.NewVerifier(e.issuer, keys, &gooidc.Config{ClientID: confidentialID, SupportedSigningAlgs: []string{wantID}, Now: e.clock.Now})
	tok, err := idv.Verify(ctx, idt)
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	if err := tok.VerifyAccessToken(at); err != nil {
		t.Errorf("at_hash: %v", err)
	}
}

// TestTokenAlgorithmsByDefault: access tokens are ES256 and ID tokens
// RS256 (OpenID Connect Core §15.1), from the code and from a refresh, so a
// response costs one RSA signature.
func TestTokenAlgorithmsByDefault(t *testing.T) {
	e := newEnv(t)
	body := e.offlineTokens(confidentialID, confidentialSecret)
	e.verifyBoth(t, body, oidc.ES256, oidc.RS256)
	status, refreshed := e.refresh(body["refresh_token"].(string), nil)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, refreshed)
	}
	e.verifyBoth(t, refreshed, oidc.ES256, oidc.RS256)
	// The access token works at userinfo, which verifies it with the JWKS.
	if p := e.userinfo("GET", "Bearer "+refreshed["access_token"].(string), ""); p.status != 200 {
		t.Errorf("userinfo with an ES256 access token: %d %s", p.status, p.body)
	}
	doc := decodeJSON(t, e.get(testClient, oidc.PathDiscovery, nil).body)
	if got := stringList(doc["id_token_signing_alg_values_supported"]); strings.Join(got, ",") != "RS256" {
		t.Errorf("id_token_signing_alg_values_supported %v; want [RS256]", got)
	}
}

// TestClientES256IDTokens: a client with idTokenSigningAlg ES256 gets ES256
// ID tokens (a refresh signs no RSA at all); discovery lists both.
func TestClientES256IDTokens(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) {
		c.Settings.IDTokenSigningAlgorithms = []string{oidc.RS256, oidc.ES256}
	})
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}, IDTokenSigningAlg: oidc.ES256})
	body := e.offlineTokens(confidentialID, confidentialSecret)
	e.verifyBoth(t, body, oidc.ES256, oidc.ES256)
	status, refreshed := e.refresh(body["refresh_token"].(string), nil)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, refreshed)
	}
	e.verifyBoth(t, refreshed, oidc.ES256, oidc.ES256)
	doc := decodeJSON(t, e.get(testClient, oidc.PathDiscovery, nil).body)
	if got := stringList(doc["id_token_signing_alg_values_supported"]); strings.Join(got, ",") != "RS256,ES256" {
		t.Errorf("id_token_signing_alg_values_supported %v; want [RS256 ES256]", got)
	}
}

// TestClientAlgorithmNotAdvertised: an ID token is never signed in an
// algorithm discovery does not list.
func TestClientAlgorithmNotAdvertised(t *testing.T) {
	e := newEnv(t)
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}, IDTokenSigningAlg: oidc.ES256})
	code, verifier := e.pkceCode(confidentialID)
	if status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret); status == 200 {
		t.Errorf("token: 200 %v; want an error (ES256 is not advertised)", body)
	}
}

// TestRefreshWithoutIDToken: refreshIDToken false leaves the ID token out
// of refresh responses (OpenID Connect Core §12.2), not of the code's.
func TestRefreshWithoutIDToken(t *testing.T) {
	e := newEnv(t)
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}, OmitRefreshIDToken: true})
	body := e.offlineTokens(confidentialID, confidentialSecret)
	e.verifyBoth(t, body, oidc.ES256, oidc.RS256)
	status, refreshed := e.refresh(body["refresh_token"].(string), nil)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, refreshed)
	}
	e.verifyBoth(t, refreshed, oidc.ES256, "")
	if refreshed["refresh_token"] == nil {
		t.Error("no refresh token in the refresh response")
	}
}

// TestAccessTokensFallBackWithoutES256: a signer with an RSA key only (a
// KMS key list without an ECC key) signs access tokens RS256.
func TestAccessTokensFallBackWithoutES256(t *testing.T) {
	rsaOnly, err := local.Generate(oidc.RS256)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *oidc.Config) { c.Signer = rsaOnly })
	e.verifyBoth(t, e.offlineTokens(confidentialID, confidentialSecret), oidc.RS256, oidc.RS256)
}
