package oidc_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// threeKeys is a signer with RS256, ES256 and PS256 keys whose PS256
// private key the tests hold, to forge signatures with other salt lengths.
var threeKeys = sync.OnceValues(func() (*local.Signer, *rsa.PrivateKey) {
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	ps, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := local.NewKeys(map[string]crypto.Signer{oidc.RS256: rs, oidc.PS256: ps, oidc.ES256: ec})
	if err != nil {
		panic(err)
	}
	return s, ps
})

// psEnv is a provider whose signer has the three keys and which offers all
// three algorithms; more adjusts the config.
func psEnv(t *testing.T, more ...func(*oidc.Config)) *env {
	s, _ := threeKeys()
	return newEnv(t, append([]func(*oidc.Config){func(c *oidc.Config) {
		c.Signer = s
		c.Settings.IDTokenSigningAlgorithms = []string{oidc.RS256, oidc.ES256, oidc.PS256}
	}}, more...)...)
}

// TestClientPS256IDTokens: a client with idTokenSigningAlg PS256 gets PS256
// ID tokens from the code and from a refresh (verified by go-oidc, which
// checks RFC 7518 §3.5 with crypto/rsa), ES256 access tokens beside them.
func TestClientPS256IDTokens(t *testing.T) {
	e := psEnv(t)
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}, IDTokenSigningAlg: oidc.PS256})
	body := e.offlineTokens(confidentialID, confidentialSecret)
	e.verifyBoth(t, body, oidc.ES256, oidc.PS256)
	status, refreshed := e.refresh(body["refresh_token"].(string), nil)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, refreshed)
	}
	e.verifyBoth(t, refreshed, oidc.ES256, oidc.PS256)
	// The PS256 ID token is a valid id_token_hint (its signature is
	// checked with the 32-byte salt): logout needs no confirmation.
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI},
		IDTokenSigningAlg: oidc.PS256, PostLogoutRedirectURIs: []string{logoutURI}})
	c := e.browser()
	hint := e.signIn(c, confidentialID, userEmail)
	if got := jwsAlg(t, hint); got != oidc.PS256 {
		t.Fatalf("hint alg %s; want PS256", got)
	}
	p := e.get(c, oidc.PathLogout, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {logoutURI}})
	if p.status != http.StatusFound || p.header.Get("Location") != logoutURI {
		t.Errorf("logout with a PS256 hint: %d %q; want a redirect to %s", p.status, p.header.Get("Location"), logoutURI)
	}
}

// TestAccessTokenAlgorithmSetting: access tokens in another algorithm than
// ID tokens (Settings.AccessTokenAlgorithm), verified at userinfo and
// introspection.
func TestAccessTokenAlgorithmSetting(t *testing.T) {
	e := psEnv(t, func(c *oidc.Config) { c.Settings.AccessTokenAlgorithm = oidc.PS256 })
	body := e.offlineTokens(confidentialID, confidentialSecret)
	e.verifyBoth(t, body, oidc.PS256, oidc.RS256)
	status, refreshed := e.refresh(body["refresh_token"].(string), nil)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, refreshed)
	}
	e.verifyBoth(t, refreshed, oidc.PS256, oidc.RS256)
	at := refreshed["access_token"].(string)
	if p := e.userinfo("GET", "Bearer "+at, ""); p.status != 200 {
		t.Errorf("userinfo with a PS256 access token: %d %s", p.status, p.body)
	}
	p := e.postForm(testClient, oidc.PathIntrospect, url.Values{"token": {at}, "client_id": {confidentialID}, "client_secret": {confidentialSecret}})
	if got := decodeJSON(t, p.body); got["active"] != true {
		t.Errorf("introspection of a PS256 access token: %s", p.body)
	}
}

// resign replaces the signature of token with a PS256 signature by key
// with the given salt length.
func resign(t *testing.T, token string, key *rsa.PrivateKey, salt int) string {
	t.Helper()
	input := token[:strings.LastIndexByte(token, '.')]
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: salt})
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestPS256SaltIsChecked: the provider verifies its own PS256 tokens as RFC
// 7518 §3.5 says, with a 32-byte salt: a signature by its own key with the
// longest salt (what some libraries make by default) is refused.
func TestPS256SaltIsChecked(t *testing.T) {
	_, key := threeKeys()
	e := psEnv(t, func(c *oidc.Config) { c.Settings.AccessTokenAlgorithm = oidc.PS256 })
	at := e.offlineTokens(confidentialID, confidentialSecret)["access_token"].(string)
	if p := e.userinfo("GET", "Bearer "+resign(t, at, key, 32), ""); p.status != 200 {
		t.Fatalf("re-signed with a 32-byte salt: %d %s; want 200", p.status, p.body)
	}
	maxSalt := key.Size() - sha256.Size - 2
	if p := e.userinfo("GET", "Bearer "+resign(t, at, key, maxSalt), ""); p.status != http.StatusUnauthorized {
		t.Errorf("re-signed with a %d-byte salt: %d %s; want 401", maxSalt, p.status, p.body)
	}
}

// TestSignedUserInfo: a client with userinfo_signed_response_alg gets
// application/jwt signed with it, with iss and aud (OpenID Connect Core
// §5.3.2), verified through go-oidc's RemoteKeySet; others get JSON.
func TestSignedUserInfo(t *testing.T) {
	for _, alg := range []string{oidc.PS256, oidc.ES256, oidc.RS256} {
		t.Run(alg, func(t *testing.T) {
			e := psEnv(t)
			e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}, UserInfoSigningAlg: alg})
			at := e.offlineTokens(confidentialID, confidentialSecret)["access_token"].(string)
			p := e.userinfo("GET", "Bearer "+at, "")
			if p.status != 200 || p.header.Get("Content-Type") != "application/jwt" || p.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("userinfo: %d %q %q", p.status, p.header.Get("Content-Type"), p.header.Get("Cache-Control"))
			}
			if got := jwsAlg(t, p.body); got != alg {
				t.Errorf("alg %s; want %s", got, alg)
			}
			ctx := gooidc.ClientContext(t.Context(), testClient)
			payload, err := gooidc.NewRemoteKeySet(ctx, e.issuer+oidc.PathJWKS).VerifySignature(ctx, p.body)
			if err != nil {
				t.Fatalf("go-oidc: %v", err)
			}
			var claims map[string]any
			if err := json.Unmarshal(payload, &claims); err != nil {
				t.Fatal(err)
			}
			if claims["iss"] != e.issuer || claims["aud"] != confidentialID || claims["sub"] != userSubject || claims["email"] != userEmail {
				t.Errorf("claims %v; want iss %s, aud %s, sub and email", claims, e.issuer, confidentialID)
			}
			if _, ok := claims["exp"]; ok {
				t.Errorf("claims %v carry exp", claims)
			}
			// A signed userinfo response is not an ID token: refused as
			// id_token_hint (it has no exp).
			lp := e.get(e.browser(), oidc.PathLogout, url.Values{"id_token_hint": {p.body}})
			if lp.status != http.StatusBadRequest {
				t.Errorf("logout with a userinfo JWT as id_token_hint: %d; want 400", lp.status)
			}
		})
	}
	e := psEnv(t)
	at := e.offlineTokens(confidentialID, confidentialSecret)["access_token"].(string)
	if p := e.userinfo("GET", "Bearer "+at, ""); p.status != 200 || p.header.Get("Content-Type") != "application/json" {
		t.Errorf("userinfo without userInfoSigningAlg: %d %q; want JSON", p.status, p.header.Get("Content-Type"))
	}
}

// TestDiscoveryAndJWKSWithThreeAlgorithms: discovery lists every
// algorithm the provider signs ID tokens and userinfo with; the JWKS one
// key per algorithm, each with its alg and use sig.
func TestDiscoveryAndJWKSWithThreeAlgorithms(t *testing.T) {
	e := psEnv(t)
	doc := decodeJSON(t, e.get(testClient, oidc.PathDiscovery, nil).body)
	for _, field := range []string{"id_token_signing_alg_values_supported", "userinfo_signing_alg_values_supported"} {
		if got := stringList(doc[field]); strings.Join(got, ",") != "RS256,ES256,PS256" {
			t.Errorf("%s %v; want [RS256 ES256 PS256]", field, got)
		}
	}
	var set struct{ Keys []oidc.JWK }
	if err := json.Unmarshal([]byte(e.get(testClient, oidc.PathJWKS, nil).body), &set); err != nil {
		t.Fatal(err)
	}
	var algs []string
	for _, k := range set.Keys {
		algs = append(algs, k.Alg)
		if k.Use != "sig" || k.Kid == "" {
			t.Errorf("key %+v; want use sig and a kid", k)
		}
	}
	if !slices.Equal(algs, []string{oidc.RS256, oidc.ES256, oidc.PS256}) {
		t.Errorf("JWKS algs %v; want [RS256 ES256 PS256]", algs)
	}
	if set.Keys[0].N == set.Keys[2].N {
		t.Error("the RS256 and PS256 keys are one key")
	}
}

// TestRegistrationSigningAlgs: id_token_signed_response_alg and
// userinfo_signed_response_alg are accepted among the offered algorithms,
// refused otherwise (invalid_client_metadata); an omitted
// id_token_signed_response_alg is RS256 (Dynamic Client Registration §2).
func TestRegistrationSigningAlgs(t *testing.T) {
	e := psEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}))
	ok := webApp()
	ok["userinfo_signed_response_alg"] = oidc.PS256
	status, body, _ := e.regCall("POST", oidc.PathRegister, "", ok)
	if status != http.StatusCreated || body["userinfo_signed_response_alg"] != oidc.PS256 || body["id_token_signed_response_alg"] != oidc.RS256 {
		t.Fatalf("register: %d %v; want 201 with userinfo PS256 and ID token RS256", status, body)
	}
	// The registered client gets signed userinfo.
	id, secret := body["client_id"].(string), body["client_secret"].(string)
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", id)
	params.Set("scope", "openid email")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	_, tok, _ := e.token(codeForm(e.code(params), verifier), id, secret)
	at, _ := tok["access_token"].(string)
	if p := e.userinfo("GET", "Bearer "+at, ""); p.header.Get("Content-Type") != "application/jwt" || jwsAlg(t, p.body) != oidc.PS256 {
		t.Errorf("registered client's userinfo: %d %q", p.status, p.header.Get("Content-Type"))
	}
	for _, tt := range []struct{ field, alg string }{
		{"userinfo_signed_response_alg", "HS256"},
		{"userinfo_signed_response_alg", "none"},
		{"id_token_signed_response_alg", "none"},
		{"id_token_signed_response_alg", "PS384"},
	} {
		m := webApp()
		m[tt.field] = tt.alg
		status, body, _ := e.regCall("POST", oidc.PathRegister, "", m)
		if status != http.StatusBadRequest || body["error"] != "invalid_client_metadata" {
			t.Errorf("%s %s: %d %v; want 400 invalid_client_metadata", tt.field, tt.alg, status, body)
		}
	}
}
