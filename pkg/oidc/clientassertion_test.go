package oidc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// private_key_jwt (OpenID Connect Core §9, RFC 7523): a client whose keys
// are registered authenticates with a signed assertion; every way an
// assertion can be wrong is refused with invalid_client.

const jwtClientID = "jwt-app"

// jwtKey is a client's signing key and its public JWK Set.
type jwtKey struct {
	signer any // *ecdsa.PrivateKey or *rsa.PrivateKey
	alg    jose.SignatureAlgorithm
	kid    string
}

func newJWTKey(t testing.TB, alg jose.SignatureAlgorithm, kid string) jwtKey {
	t.Helper()
	var priv any
	var err error
	if alg == jose.ES256 {
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	return jwtKey{signer: priv, alg: alg, kid: kid}
}

func (k jwtKey) jwks(t testing.TB) string {
	t.Helper()
	var pub any
	switch p := k.signer.(type) {
	case *ecdsa.PrivateKey:
		pub = &p.PublicKey
	case *rsa.PrivateKey:
		pub = &p.PublicKey
	}
	raw, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: k.kid, Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// assertion signs the claims of a valid assertion for aud, which edit
// may change first.
func (k jwtKey) assertion(t testing.TB, aud string, now time.Time, edit func(c map[string]any)) string {
	t.Helper()
	c := map[string]any{"iss": jwtClientID, "sub": jwtClientID, "aud": aud, "jti": rand.Text(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	if edit != nil {
		edit(c)
	}
	payload, _ := json.Marshal(c)
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.signer}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unsigned is an assertion with alg none.
func unsigned(issuer string, now time.Time) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT"})
	c, _ := json.Marshal(map[string]any{"iss": jwtClientID, "sub": jwtClientID, "aud": issuer, "jti": rand.Text(), "exp": now.Add(time.Minute).Unix()})
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

func assertionForm(assertion string) url.Values {
	return url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
}

// introspectAs authenticates at the introspection endpoint with form.
func (e *env) introspectAs(form url.Values) (int, map[string]any) {
	e.t.Helper()
	form.Set("token", "not-a-token")
	p := e.postForm(testClient, oidc.PathIntrospect, form)
	var body map[string]any
	_ = json.Unmarshal([]byte(p.body), &body)
	return p.status, body
}

func TestPrivateKeyJWTCodeFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := newJWTKey(t, jose.ES256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"})
	params := authParams()
	params.Set("client_id", jwtClientID)
	form := assertionForm(key.assertion(t, e.issuer, e.clock.Now(), nil))
	form.Set("grant_type", "authorization_code")
	form.Set("code", e.code(params))
	form.Set("redirect_uri", redirectURI)
	status, body, _ := e.token(form, "", "")
	if status != http.StatusOK || body["id_token"] == nil {
		t.Fatalf("token: %d %v", status, body)
	}
	// The token endpoint URL is no accepted aud by default (audience
	// injection, clientassertion.go audienceOK).
	if status, body := e.introspectAs(assertionForm(key.assertion(t, e.issuer+oidc.PathToken, e.clock.Now(), nil))); status != http.StatusUnauthorized {
		t.Fatalf("aud = token endpoint: %d %v; want 401", status, body)
	}
	// The client has no secret, and may not use one.
	if status, _ := e.introspectAs(url.Values{"client_id": {jwtClientID}, "client_secret": {"x"}}); status != http.StatusUnauthorized {
		t.Fatalf("secret for a private_key_jwt client: %d", status)
	}
}

// TestAssertionTokenEndpointAudience: with the setting, the token endpoint
// URL is an aud too (what OpenID Connect Core §9 once recommended), for
// every client but a FAPI 2.0 one.
func TestAssertionTokenEndpointAudience(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *oidc.Config) { c.Settings.AssertionTokenEndpointAudience = true })
	key := newJWTKey(t, jose.ES256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"})
	if status, body := e.introspectAs(assertionForm(key.assertion(t, e.issuer+oidc.PathToken, e.clock.Now(), nil))); status != http.StatusOK {
		t.Fatalf("aud = token endpoint: %d %v", status, body)
	}
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt", Profile: oidc.ProfileFAPI2})
	if status, body := e.introspectAs(assertionForm(key.assertion(t, e.issuer+oidc.PathToken, e.clock.Now(), nil))); status != http.StatusUnauthorized {
		t.Fatalf("aud = token endpoint for a FAPI client: %d %v; want 401", status, body)
	}
}

func TestPrivateKeyJWTRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key, other := newJWTKey(t, jose.ES256, "k1"), newJWTKey(t, jose.ES256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"})
	now := e.clock.Now()
	replayed := key.assertion(t, e.issuer, now, nil)
	if status, body := e.introspectAs(assertionForm(replayed)); status != http.StatusOK {
		t.Fatalf("first use: %d %v", status, body)
	}
	hs := key.assertion(t, e.issuer, now, nil)
	cases := map[string]string{
		"replayed jti":       replayed,
		"wrong aud":          key.assertion(t, "https://elsewhere.example", now, nil),
		"aud with a path":    key.assertion(t, e.issuer+"/", now, nil),
		"expired":            key.assertion(t, e.issuer, now, func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }),
		"no exp":             key.assertion(t, e.issuer, now, func(c map[string]any) { delete(c, "exp") }),
		"exp too far":        key.assertion(t, e.issuer, now, func(c map[string]any) { c["exp"] = now.Add(10 * time.Minute).Unix() }),
		"no jti":             key.assertion(t, e.issuer, now, func(c map[string]any) { delete(c, "jti") }),
		"iss is not sub":     key.assertion(t, e.issuer, now, func(c map[string]any) { c["iss"] = otherID }),
		"not yet valid":      key.assertion(t, e.issuer, now, func(c map[string]any) { c["nbf"] = now.Add(2 * time.Minute).Unix() }),
		"alg none":           unsigned(e.issuer, now),
		"another key":        other.assertion(t, e.issuer, now, nil),
		"HS256":              hs[:strings.LastIndex(hs, ".")] + ".AAAA",
		"unknown client":     key.assertion(t, e.issuer, now, func(c map[string]any) { c["iss"], c["sub"] = "nobody", "nobody" }),
		"secret client":      key.assertion(t, e.issuer, now, func(c map[string]any) { c["iss"], c["sub"] = confidentialID, confidentialID }),
		"not a JWS":          "not.a.jws",
		"empty":              "",
		"sub ≠ client_id":    "with-client-id",
		"wrong type of form": "wrong-type",
	}
	for name, a := range cases {
		form := assertionForm(a)
		switch a {
		case "with-client-id":
			form = assertionForm(key.assertion(t, e.issuer, now, nil))
			form.Set("client_id", otherID)
		case "wrong-type":
			form = assertionForm(key.assertion(t, e.issuer, now, nil))
			form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		}
		status, body := e.introspectAs(form)
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v, want 401 invalid_client", name, status, body)
		}
	}
	// An assertion beside a secret is two methods (RFC 6749 §2.3).
	form := assertionForm(key.assertion(t, e.issuer, now, nil))
	form.Set("client_secret", "x")
	if status, body := e.introspectAs(form); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("assertion and secret: %d %v", status, body)
	}
}

// TestPrivateKeyJWTJWKSURI: keys read from jwks_uri, cached, read again
// for an unknown kid (a rotation) at most once a minute.
func TestPrivateKeyJWTJWKSURI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	k1, k2 := newJWTKey(t, jose.RS256, "k1"), newJWTKey(t, jose.PS256, "k2")
	var current atomic.Value
	current.Store(k1.jwks(t))
	var reads atomic.Int32
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reads.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(current.Load().(string)))
	}))
	t.Cleanup(keys.Close)
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKSURI: keys.URL, TokenEndpointAuthMethod: "private_key_jwt"})
	ok := func(k jwtKey) bool {
		status, _ := e.introspectAs(assertionForm(k.assertion(t, e.issuer, e.clock.Now(), nil)))
		return status == http.StatusOK
	}
	if !ok(k1) || !ok(k1) || reads.Load() != 1 {
		t.Fatalf("k1 with one read: reads %d", reads.Load())
	}
	// Rotation: k2 is unknown, read again once (a minute after the last
	// read), still not there (not yet published), and not read again
	// within the minute.
	e.clock.Advance(61 * time.Second)
	if ok(k2) || ok(k2) || reads.Load() != 2 {
		t.Fatalf("unpublished k2: reads %d", reads.Load())
	}
	current.Store(k2.jwks(t))
	if ok(k2) {
		t.Fatal("k2 accepted before the minute")
	}
	e.clock.Advance(61 * time.Second)
	if !ok(k2) || reads.Load() != 3 {
		t.Fatalf("k2 after the minute: reads %d", reads.Load())
	}
}

// TestPrivateKeyJWTRegistered: a client registers (RFC 7591) with
// private_key_jwt and its jwks, gets no secret, and authenticates with an
// assertion; a jwks_uri on the provider's own network is never read.
func TestPrivateKeyJWTRegistered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}))
	key := newJWTKey(t, jose.ES256, "k1")
	var jwks map[string]any
	_ = json.Unmarshal([]byte(key.jwks(t)), &jwks)
	m := webApp()
	m["token_endpoint_auth_method"], m["jwks"] = "private_key_jwt", jwks
	status, got, _ := e.regCall(http.MethodPost, oidc.PathRegister, "", m)
	if status != http.StatusCreated || got["client_secret"] != nil || got["jwks"] == nil {
		t.Fatalf("register: %d %v", status, got)
	}
	id := got["client_id"].(string)
	as := func(c map[string]any) { c["iss"], c["sub"] = id, id }
	if status, body := e.introspectAs(assertionForm(key.assertion(t, e.issuer, e.clock.Now(), as))); status != http.StatusOK {
		t.Fatalf("registered client's assertion: %d %v", status, body)
	}
	delete(m, "jwks")
	m["jwks_uri"] = "https://127.0.0.1:1/jwks.json"
	status, got, _ = e.regCall(http.MethodPost, oidc.PathRegister, "", m)
	if status != http.StatusCreated {
		t.Fatalf("register with jwks_uri: %d %v", status, got)
	}
	id = got["client_id"].(string)
	if status, body := e.introspectAs(assertionForm(key.assertion(t, e.issuer, e.clock.Now(), as))); status != http.StatusUnauthorized {
		t.Fatalf("jwks_uri on loopback: %d %v", status, body)
	}
}
