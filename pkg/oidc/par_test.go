package oidc_test

import (
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

// Pushed authorization requests (RFC 9126): a client pushes its request
// over the back channel and the browser brings only client_id and the
// single-use request_uri to the authorization endpoint.

// push posts form to /par with client_secret_basic when id is not "" and
// the DPoP proofs given.
func (e *env) push(form url.Values, id, secret string, proofs ...string) (int, map[string]any) {
	e.t.Helper()
	status, body, _ := e.postDPoP(oidc.PathPAR, form, id, secret, proofs...)
	return status, body
}

// pushed pushes form as the confidential client and returns request_uri.
func (e *env) pushed(form url.Values) string {
	e.t.Helper()
	status, body := e.push(form, confidentialID, confidentialSecret)
	uri, _ := body["request_uri"].(string)
	if status != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") {
		e.t.Fatalf("PAR = %d %v; want 201 with a request_uri", status, body)
	}
	return uri
}

// byReference is the front-channel request of a pushed one.
func byReference(clientID, uri string) url.Values {
	return url.Values{"client_id": {clientID}, "request_uri": {uri}}
}

// wantPage asserts that p is an error page saying description, and no
// redirect.
func wantPage(t *testing.T, name string, p page, description string) {
	t.Helper()
	if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !strings.Contains(p.body, description) {
		t.Errorf("%s: %d (Location %q); want a 400 page saying %q:\n%s", name, p.status, p.header.Get("Location"), description, p.body)
	}
}

// goneURI is the page of an unusable request_uri (invalid_request_uri).
const goneURI = "the request_uri is unknown, expired or already used"

// wantRedirect asserts that p redirects to the client with error code.
func wantRedirect(t *testing.T, name string, p page, code string) {
	t.Helper()
	loc, err := url.Parse(p.header.Get("Location"))
	var got string
	if err == nil {
		fragment, _ := url.ParseQuery(loc.Fragment)
		got = loc.Query().Get("error") + fragment.Get("error")
	}
	if p.status != http.StatusFound || got != code {
		t.Errorf("%s: %d %q; want a redirect with error %s:\n%s", name, p.status, p.header.Get("Location"), code, p.body)
	}
}

func TestPARCodeFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	status, body := e.push(params, confidentialID, confidentialSecret)
	if status != http.StatusCreated || body["expires_in"] != 60.0 {
		t.Fatalf("PAR = %d %v; want 201, expires_in 60", status, body)
	}
	uri := body["request_uri"].(string)
	// RFC 9126 §4: the pushed request wins; the query's other parameters
	// are ignored.
	front := byReference(confidentialID, uri)
	front.Set("state", "forged-state")
	front.Set("redirect_uri", "https://evil.example/cb")
	c := e.browser()
	loc := e.login(c, front)
	if loc.Query().Get("state") != "xyz-state" || loc.Query().Get("code") == "" || !strings.HasPrefix(loc.String(), redirectURI) {
		t.Fatalf("redirect %s; want the pushed request's redirect_uri and state", loc)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	if status, body, _ := e.token(form, confidentialID, confidentialSecret); status != http.StatusOK || body["id_token"] == nil {
		t.Fatalf("token: %d %v", status, body)
	}
	// Single use: the request became the pending login; a second use is refused.
	wantPage(t, "reused request_uri", e.get(e.browser(), oidc.PathAuthorize, byReference(confidentialID, uri)), goneURI)
}

func TestPARRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	json400 := func(name string, status int, body map[string]any, wantStatus int, code string) {
		t.Helper()
		if status != wantStatus || body["error"] != code {
			t.Errorf("%s: %d %v; want %d %s", name, status, body, wantStatus, code)
		}
	}
	status, body := e.push(authParams(), "", "")
	json400("no client authentication", status, body, http.StatusUnauthorized, "invalid_client")
	status, body = e.push(authParams(), confidentialID, "wrong")
	json400("wrong secret", status, body, http.StatusUnauthorized, "invalid_client")
	unregistered := authParams()
	unregistered.Set("redirect_uri", "https://evil.example/cb")
	status, body = e.push(unregistered, confidentialID, confidentialSecret)
	json400("unregistered redirect_uri", status, body, http.StatusBadRequest, "invalid_request")
	withURI := authParams()
	withURI.Set("request_uri", "urn:ietf:params:oauth:request_uri:x")
	status, body = e.push(withURI, confidentialID, confidentialSecret)
	json400("request_uri pushed", status, body, http.StatusBadRequest, "invalid_request")
	public := authParams()
	public.Set("client_id", publicID)
	status, body = e.push(public, "", "")
	json400("public client without PKCE", status, body, http.StatusBadRequest, "invalid_request")
	other := authParams()
	other.Set("client_id", otherID)
	status, body = e.push(other, confidentialID, confidentialSecret)
	json400("client_id of another client", status, body, http.StatusBadRequest, "invalid_request")
	badScope := authParams()
	badScope.Set("scope", "email")
	status, body = e.push(badScope, confidentialID, confidentialSecret)
	json400("scope without openid", status, body, http.StatusBadRequest, "invalid_scope")

	// At the authorization endpoint: unknown, expired, another client's.
	c := e.browser()
	wantPage(t, "unknown request_uri", e.get(c, oidc.PathAuthorize, byReference(confidentialID, "urn:ietf:params:oauth:request_uri:nope")), goneURI)
	uri := e.pushed(authParams())
	wantPage(t, "another client's request_uri", e.get(c, oidc.PathAuthorize, byReference(otherID, uri)), goneURI)
	wantPage(t, "request_uri without client_id", e.get(c, oidc.PathAuthorize, url.Values{"request_uri": {uri}}), "client_id is missing")
	// The other client's attempt did not use it up.
	if p := e.get(c, oidc.PathAuthorize, byReference(confidentialID, uri)); p.status != http.StatusOK {
		t.Errorf("request_uri after another client tried it: %d", p.status)
	}
	expired := e.pushed(authParams())
	e.clock.Advance(61 * time.Second)
	wantPage(t, "expired request_uri", e.get(c, oidc.PathAuthorize, byReference(confidentialID, expired)), goneURI)
	// A request_uri that is a URL is never fetched.
	fetch := authParams()
	fetch.Set("request_uri", "https://evil.example/request.jwt")
	wantRedirect(t, "request_uri URL", e.get(c, oidc.PathAuthorize, fetch), "request_uri_not_supported")
}

func TestPARRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *oidc.Config) { c.PAR = oidc.PARPolicy{Required: true, Lifetime: 5 * time.Minute} })
	wantRedirect(t, "unpushed request", e.get(e.browser(), oidc.PathAuthorize, authParams()), "invalid_request")
	status, body := e.push(authParams(), confidentialID, confidentialSecret)
	if status != http.StatusCreated || body["expires_in"] != 300.0 {
		t.Fatalf("PAR = %d %v", status, body)
	}
	if loc := e.login(e.browser(), byReference(confidentialID, body["request_uri"].(string))); loc.Query().Get("code") == "" {
		t.Fatalf("pushed request: %s", loc)
	}
	_, doc, _ := e.regCall("GET", oidc.PathDiscovery, "", nil)
	if doc["require_pushed_authorization_requests"] != true {
		t.Errorf("require_pushed_authorization_requests = %v", doc["require_pushed_authorization_requests"])
	}

	// Per client.
	e = newEnv(t)
	e.store.PutClient(oidc.Client{ID: "par-only", SecretHash: oidc.HashSecret("par-secret"), RedirectURIs: []string{redirectURI}, RequirePAR: true})
	params := authParams()
	params.Set("client_id", "par-only")
	wantRedirect(t, "unpushed request of a PAR client", e.get(e.browser(), oidc.PathAuthorize, params), "invalid_request")
	if status, body := e.push(params, "par-only", "par-secret"); status != http.StatusCreated {
		t.Fatalf("PAR of a PAR client = %d %v", status, body)
	}
}

// TestPARDPoP: a DPoP proof at PAR binds the code to its key (RFC 9449
// §10.1), as dpop_jkt does.
func TestPARDPoP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key, other := newDPoPKey(t), newDPoPKey(t)
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", publicID)
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	status, body := e.push(params, "", "", key.proof(t, "POST", e.issuer+oidc.PathPAR, "", e.clock.Now(), nil))
	if status != http.StatusCreated {
		t.Fatalf("PAR with DPoP = %d %v", status, body)
	}
	code := e.code(byReference(publicID, body["request_uri"].(string)))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}, "client_id": {publicID}}
	if status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", other.proof(t, "POST", e.issuer+oidc.PathToken, "", e.clock.Now(), nil)); status != http.StatusBadRequest {
		t.Fatalf("code with another key's proof: %d %v", status, body)
	}
	if status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", key.proof(t, "POST", e.issuer+oidc.PathToken, "", e.clock.Now(), nil)); status != http.StatusOK || body["token_type"] != "DPoP" {
		t.Fatalf("code with the PAR key's proof: %d %v", status, body)
	}
	// dpop_jkt naming another key than the proof's.
	params.Set("dpop_jkt", other.jkt)
	status, body = e.push(params, "", "", key.proof(t, "POST", e.issuer+oidc.PathPAR, "", e.clock.Now(), nil))
	if status != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("dpop_jkt ≠ proof key: %d %v", status, body)
	}
	// A proof for another endpoint.
	params.Del("dpop_jkt")
	status, body = e.push(params, "", "", key.proof(t, "POST", e.issuer+oidc.PathToken, "", e.clock.Now(), nil))
	if status != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("proof with the token endpoint's htu: %d %v", status, body)
	}
}

// signJWT signs claims with alg and key (a private key, or the HMAC
// secret's bytes), kid in the header when not "".
func signJWT(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	return signTypedJWT(t, "oauth-authz-req+jwt", alg, key, kid, claims)
}

// signTypedJWT is signJWT with the typ header typ.
func signTypedJWT(t testing.TB, typ jose.ContentType, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	opts := (&jose.SignerOptions{}).WithType(typ)
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
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

// unsignedJWT is claims with alg none.
func unsignedJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "none"})
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}
