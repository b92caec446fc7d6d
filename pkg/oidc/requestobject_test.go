package oidc_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Request objects (RFC 9101, OpenID Connect Core §6.1) and
// client_secret_jwt (RFC 7523, OpenID Connect Core §9).

// objectClaims are the claims of a valid request object of jwtClientID.
func objectClaims(issuer string, now time.Time) map[string]any {
	return map[string]any{
		"iss": jwtClientID, "aud": issuer, "jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"client_id": jwtClientID, "response_type": "code", "redirect_uri": redirectURI, "scope": "openid email",
		"state": "object-state", "nonce": "object-nonce", "max_age": 3600,
		"claims": map[string]any{"id_token": map[string]any{"email": nil}},
	}
}

func (k jwtKey) object(t testing.TB, claims map[string]any) string {
	t.Helper()
	return signJWT(t, k.alg, k.signer, k.kid, claims)
}

func TestRequestObjectByValue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := newJWTKey(t, jose.PS256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"})
	// RFC 9101 §6.3: only the object's parameters count; the query's
	// state and scope are ignored.
	q := url.Values{"client_id": {jwtClientID}, "response_type": {"code"}, "scope": {"openid profile"}, "state": {"query-state"},
		"request": {key.object(t, objectClaims(e.issuer, e.clock.Now()))}}
	loc := e.login(e.browser(), q)
	if loc.Query().Get("state") != "object-state" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect %s; want the object's state and a code", loc)
	}
	form := assertionForm(key.assertion(t, e.issuer, e.clock.Now(), nil))
	form.Set("grant_type", "authorization_code")
	form.Set("code", loc.Query().Get("code"))
	form.Set("redirect_uri", redirectURI)
	status, body, _ := e.token(form, "", "")
	if status != http.StatusOK || body["scope"] != "openid email" {
		t.Fatalf("token: %d %v; want the object's scope", status, body)
	}
}

func TestRequestObjectRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key, other := newJWTKey(t, jose.ES256, "k1"), newJWTKey(t, jose.ES256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"})
	now := e.clock.Now()
	edit := func(f func(c map[string]any)) string {
		c := objectClaims(e.issuer, now)
		f(c)
		return key.object(t, c)
	}
	replayed := key.object(t, objectClaims(e.issuer, now))
	first := url.Values{"client_id": {jwtClientID}, "redirect_uri": {redirectURI}, "request": {replayed}}
	if p := e.get(e.browser(), oidc.PathAuthorize, first); p.status != http.StatusOK {
		t.Fatalf("first use: %d\n%s", p.status, p.body)
	}
	cases := map[string]string{
		"replayed jti":           replayed,
		"another key":            other.object(t, objectClaims(e.issuer, now)),
		"alg none":               unsignedJWT(objectClaims(e.issuer, now)),
		"wrong aud":              edit(func(c map[string]any) { c["aud"] = "https://elsewhere.example" }),
		"aud is the token URL":   edit(func(c map[string]any) { c["aud"] = e.issuer + oidc.PathToken }),
		"wrong iss":              edit(func(c map[string]any) { c["iss"] = otherID }),
		"expired":                edit(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }),
		"no exp":                 edit(func(c map[string]any) { delete(c, "exp") }),
		"exp too far":            edit(func(c map[string]any) { c["exp"] = now.Add(2 * time.Hour).Unix() }),
		"not yet valid":          edit(func(c map[string]any) { c["nbf"] = now.Add(2 * time.Minute).Unix() }),
		"no jti":                 edit(func(c map[string]any) { delete(c, "jti") }),
		"client_id of another":   edit(func(c map[string]any) { c["client_id"] = otherID }),
		"request_uri inside":     edit(func(c map[string]any) { c["request_uri"] = "https://evil.example/r" }),
		"HS256 with no secret":   signJWT(t, jose.HS256, []byte(strings.Repeat("k", 32)), "", objectClaims(e.issuer, now)),
		"encrypted (five parts)": "a.b.c.d.e",
		"not a JWT":              "not-a-jwt",
	}
	for name, object := range cases {
		// The query proves the client and a redirect URI: the error goes
		// back to it.
		q := url.Values{"client_id": {jwtClientID}, "redirect_uri": {redirectURI}, "state": {"s"}, "request": {object}}
		wantRedirect(t, name, e.get(e.browser(), oidc.PathAuthorize, q), "invalid_request_object")
		// Without a redirect URI in the query, nothing may redirect.
		q.Del("redirect_uri")
		if p := e.get(e.browser(), oidc.PathAuthorize, q); p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
			t.Errorf("%s without redirect_uri: %d %q; want a page", name, p.status, p.header.Get("Location"))
		}
	}
	both := url.Values{"client_id": {jwtClientID}, "redirect_uri": {redirectURI}, "request": {replayed}, "request_uri": {"urn:ietf:params:oauth:request_uri:x"}}
	wantRedirect(t, "request and request_uri", e.get(e.browser(), oidc.PathAuthorize, both), "invalid_request")
	mismatch := url.Values{"client_id": {jwtClientID}, "redirect_uri": {redirectURI}, "response_type": {"id_token"}, "request": {key.object(t, objectClaims(e.issuer, now))}}
	wantRedirect(t, "response_type differs", e.get(e.browser(), oidc.PathAuthorize, mismatch), "invalid_request_object")
}

// TestRequestObjectUnsigned: alg none only from a client registered with
// request_object_signing_alg none; a client pinned to an algorithm gets
// only that one.
func TestRequestObjectUnsigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := newJWTKey(t, jose.ES256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt", RequestObjectSigningAlg: "none"})
	q := url.Values{"client_id": {jwtClientID}, "request": {unsignedJWT(objectClaims(e.issuer, e.clock.Now()))}}
	if loc := e.login(e.browser(), q); loc.Query().Get("state") != "object-state" {
		t.Fatalf("unsigned object of a none client: %s", loc)
	}
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt", RequestObjectSigningAlg: "PS256"})
	q = url.Values{"client_id": {jwtClientID}, "redirect_uri": {redirectURI}, "request": {key.object(t, objectClaims(e.issuer, e.clock.Now()))}}
	wantRedirect(t, "ES256 object of a PS256 client", e.get(e.browser(), oidc.PathAuthorize, q), "invalid_request_object")
}

// TestRequestObjectInPAR: PAR + JAR + private_key_jwt, the FAPI 2.0 way;
// the object's errors are PAR's JSON errors.
func TestRequestObjectInPAR(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := newJWTKey(t, jose.ES256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"})
	now := e.clock.Now()
	form := assertionForm(key.assertion(t, e.issuer, now, nil))
	form.Set("request", key.object(t, objectClaims(e.issuer, now)))
	form.Set("state", "ignored")
	status, body, _ := e.postDPoP(oidc.PathPAR, form, "", "")
	if status != http.StatusCreated {
		t.Fatalf("PAR with a request object: %d %v", status, body)
	}
	if loc := e.login(e.browser(), byReference(jwtClientID, body["request_uri"].(string))); loc.Query().Get("state") != "object-state" {
		t.Fatalf("redirect %s; want the object's state", loc)
	}
	other := newJWTKey(t, jose.ES256, "k1")
	form = assertionForm(key.assertion(t, e.issuer, now, nil))
	form.Set("request", other.object(t, objectClaims(e.issuer, now)))
	status, body, _ = e.postDPoP(oidc.PathPAR, form, "", "")
	if status != http.StatusBadRequest || body["error"] != "invalid_request_object" {
		t.Fatalf("PAR with an object of another key: %d %v", status, body)
	}
	// The object names another client than the authenticated one.
	form = url.Values{"request": {key.object(t, objectClaims(e.issuer, now))}}
	status, body, _ = e.postDPoP(oidc.PathPAR, form, confidentialID, confidentialSecret)
	if status != http.StatusBadRequest || body["error"] != "invalid_request_object" {
		t.Fatalf("PAR of another client's object: %d %v", status, body)
	}
}

const (
	hmacClientID = "hmac-app"
	hmacSecret   = "a-client-secret-long-enough-for-HS512-which-needs-64-bytes-of-key"
)

// hmacAssertion is a client_secret_jwt assertion of hmacClientID.
func hmacAssertion(t testing.TB, alg jose.SignatureAlgorithm, secret, aud string, now time.Time) string {
	return signTypedJWT(t, "JWT", alg, []byte(secret), "", map[string]any{"iss": hmacClientID, "sub": hmacClientID, "aud": aud,
		"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
}

func TestClientSecretJWT(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.store.PutClient(oidc.Client{ID: hmacClientID, RedirectURIs: []string{redirectURI}, TokenEndpointAuthMethod: "client_secret_jwt", HMACSecret: hmacSecret})
	now := e.clock.Now()
	for _, alg := range []jose.SignatureAlgorithm{jose.HS256, jose.HS384} {
		if status, body := e.introspectAs(assertionForm(hmacAssertion(t, alg, hmacSecret, e.issuer, now))); status != http.StatusOK {
			t.Fatalf("%s assertion: %d %v", alg, status, body)
		}
	}
	// The code flow, with an HS256 request object pushed to PAR.
	form := assertionForm(hmacAssertion(t, jose.HS256, hmacSecret, e.issuer, now))
	claims := objectClaims(e.issuer, now)
	claims["iss"], claims["client_id"] = hmacClientID, hmacClientID
	form.Set("request", signJWT(t, jose.HS256, []byte(hmacSecret), "", claims))
	status, body, _ := e.postDPoP(oidc.PathPAR, form, "", "")
	if status != http.StatusCreated {
		t.Fatalf("PAR: %d %v", status, body)
	}
	code := e.code(byReference(hmacClientID, body["request_uri"].(string)))
	form = assertionForm(hmacAssertion(t, jose.HS256, hmacSecret, e.issuer, now))
	form.Set("grant_type", "authorization_code")
	form.Set("code", code)
	form.Set("redirect_uri", redirectURI)
	if status, body, _ := e.token(form, "", ""); status != http.StatusOK || body["id_token"] == nil {
		t.Fatalf("token: %d %v", status, body)
	}

	replayed := hmacAssertion(t, jose.HS256, hmacSecret, e.issuer, now)
	if status, _ := e.introspectAs(assertionForm(replayed)); status != http.StatusOK {
		t.Fatalf("first use: %d", status)
	}
	refusals := map[string]url.Values{
		"wrong secret":      assertionForm(hmacAssertion(t, jose.HS256, hmacSecret+"x", e.issuer, now)),
		"wrong aud":         assertionForm(hmacAssertion(t, jose.HS256, hmacSecret, "https://elsewhere.example", now)),
		"replayed jti":      assertionForm(replayed),
		"the secret itself": {"client_id": {hmacClientID}, "client_secret": {hmacSecret}},
		"an RSA signature":  assertionForm(newJWTKey(t, jose.RS256, "").assertion(t, e.issuer, now, func(c map[string]any) { c["iss"], c["sub"] = hmacClientID, hmacClientID })),
		"HS256 of a secret client": assertionForm(signJWT(t, jose.HS256, []byte(confidentialSecret+confidentialSecret), "", map[string]any{
			"iss": confidentialID, "sub": confidentialID, "aud": e.issuer, "jti": rand.Text(), "exp": now.Add(time.Minute).Unix()})),
	}
	for name, form := range refusals {
		if status, body := e.introspectAs(form); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v; want 401 invalid_client", name, status, body)
		}
	}
	// RFC 7518 §3.2: a key shorter than the hash is refused.
	e.store.PutClient(oidc.Client{ID: hmacClientID, RedirectURIs: []string{redirectURI}, TokenEndpointAuthMethod: "client_secret_jwt", HMACSecret: "short-secret"})
	if status, _ := e.introspectAs(assertionForm(shortKeyHS256(hmacClientID, "short-secret", e.issuer, now))); status != http.StatusUnauthorized {
		t.Errorf("short secret: %d; want 401", status)
	}
}

func TestRegistrationRefusesClientSecretJWT(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}))
	for name, edit := range map[string]func(m map[string]any){
		"client_secret_jwt":     func(m map[string]any) { m["token_endpoint_auth_method"] = "client_secret_jwt" },
		"HS256 request objects": func(m map[string]any) { m["request_object_signing_alg"] = "HS256" },
		"RS256 without keys":    func(m map[string]any) { m["request_object_signing_alg"] = "RS256" },
	} {
		m := webApp()
		edit(m)
		if status, body, _ := e.regCall("POST", oidc.PathRegister, "", m); status != http.StatusBadRequest || body["error"] != "invalid_client_metadata" {
			t.Errorf("%s: %d %v; want invalid_client_metadata", name, status, body)
		}
	}
	m := webApp()
	m["require_pushed_authorization_requests"], m["request_object_signing_alg"] = true, "none"
	status, reg, _ := e.regCall("POST", oidc.PathRegister, "", m)
	if status != http.StatusCreated || reg["require_pushed_authorization_requests"] != true || reg["request_object_signing_alg"] != "none" {
		t.Fatalf("register: %d %v", status, reg)
	}
	params := authParams()
	params.Set("client_id", reg["client_id"].(string))
	wantRedirect(t, "unpushed request of a registered PAR client", e.get(e.browser(), oidc.PathAuthorize, params), "invalid_request")
}

// shortKeyHS256 is an HS256 assertion keyed with a secret too short for
// go-jose to sign with (RFC 7518 §3.2), made by hand.
func shortKeyHS256(clientID, secret, aud string, now time.Time) string {
	h, _ := json.Marshal(map[string]any{"alg": "HS256", "typ": "JWT"})
	c, _ := json.Marshal(map[string]any{"iss": clientID, "sub": clientID, "aud": aud, "jti": rand.Text(), "exp": now.Add(time.Minute).Unix()})
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
