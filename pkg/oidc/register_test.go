package oidc_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// withRegistration serves dynamic registration from the env's memory
// store under policy, clients found through a ClientDirectory.
func withRegistration(policy oidc.RegistrationPolicy) func(*oidc.Config) {
	return func(c *oidc.Config) {
		store := c.Refresh.(oidc.ClientRegistry)
		c.Registry = store
		c.Clients = oidc.NewClientDirectory(c.Clients, store, 0, c.Now)
		c.Registration = policy
	}
}

// regCall sends a JSON body (nil: none) with an optional Bearer token.
func (e *env) regCall(method, path, token string, body any) (int, map[string]any, http.Header) {
	e.t.Helper()
	var rd *strings.Reader
	switch b := body.(type) {
	case nil:
		rd = strings.NewReader("")
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = strings.NewReader(string(raw))
	}
	req, _ := http.NewRequest(method, e.issuer+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	p := e.do(testClient, req)
	var out map[string]any
	if p.body != "" {
		if err := json.Unmarshal([]byte(p.body), &out); err != nil {
			e.t.Fatalf("%s %s: %d %q is not JSON", method, path, p.status, p.body)
		}
	}
	return p.status, out, p.header
}

func webApp() map[string]any {
	return map[string]any{"redirect_uris": []string{redirectURI}, "client_name": "Registered App", "scope": "openid email"}
}

func clientPath(m map[string]any) string {
	u, _ := url.Parse(m["registration_client_uri"].(string))
	return u.Path
}

func TestRegistrationClosedByDefault(t *testing.T) {
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{}))
	status, body, _ := e.regCall("POST", oidc.PathRegister, "", webApp())
	if status != http.StatusForbidden || body["error"] != oidc.ErrCodeAccessDenied {
		t.Fatalf("closed /register = %d %v; want 403 access_denied", status, body)
	}
	_, doc, _ := e.regCall("GET", oidc.PathDiscovery, "", nil)
	if _, ok := doc["registration_endpoint"]; ok {
		t.Fatalf("discovery lists registration_endpoint while closed")
	}
}

func TestRegistrationLifecycle(t *testing.T) {
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}))
	_, doc, _ := e.regCall("GET", oidc.PathDiscovery, "", nil)
	if doc["registration_endpoint"] != e.issuer+oidc.PathRegister {
		t.Fatalf("registration_endpoint = %v", doc["registration_endpoint"])
	}
	status, reg, h := e.regCall("POST", oidc.PathRegister, "", webApp())
	if status != http.StatusCreated || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("register = %d %v (Cache-Control %q)", status, reg, h.Get("Cache-Control"))
	}
	id, secret, token := reg["client_id"].(string), reg["client_secret"].(string), reg["registration_access_token"].(string)
	if id == "" || secret == "" || token == "" || reg["client_secret_expires_at"] != 0.0 || reg["client_id_issued_at"] == nil ||
		reg["token_endpoint_auth_method"] != "client_secret_basic" || reg["grant_types"].([]any)[0] != "authorization_code" {
		t.Fatalf("registration answer %v", reg)
	}
	for name, v := range e.store.Snapshot() {
		if strings.Contains(v, secret) || strings.Contains(v, token) {
			t.Fatalf("the store's %s holds the client secret or the registration token in clear", name)
		}
	}
	// The registered client completes the code flow with PKCE.
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", id)
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	code := e.code(params)
	st, tok, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, id, secret)
	if st != http.StatusOK || tok["id_token"] == nil {
		t.Fatalf("token = %d %v", st, tok)
	}
	// client_secret_post is not this client's registered method.
	st, tok, _ = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {id}, "client_secret": {secret}}, "", "")
	if st != http.StatusUnauthorized || tok["error"] != oidc.ErrCodeInvalidClient {
		t.Fatalf("client_secret_post for a client_secret_basic client = %d %v; want 401 invalid_client", st, tok)
	}

	path := clientPath(reg)
	status, got, _ := e.regCall("GET", path, token, nil)
	if status != http.StatusOK || got["client_id"] != id || got["client_secret"] != nil || got["registration_access_token"] != token {
		t.Fatalf("read = %d %v", status, got)
	}
	update := webApp()
	update["client_id"], update["client_name"] = id, "Renamed"
	status, got, _ = e.regCall("PUT", path, token, update)
	if status != http.StatusOK || got["client_name"] != "Renamed" || got["client_secret"] != nil {
		t.Fatalf("update = %d %v", status, got)
	}
	update["client_id"] = "someone-else"
	if status, got, _ = e.regCall("PUT", path, token, update); status != http.StatusBadRequest || got["error"] != oidc.ErrCodeInvalidClientMetadata {
		t.Fatalf("update naming another client_id = %d %v; want invalid_client_metadata", status, got)
	}
	if status, _, _ = e.regCall("DELETE", path, token, nil); status != http.StatusNoContent {
		t.Fatalf("delete = %d; want 204", status)
	}
	if status, got, _ = e.regCall("GET", path, token, nil); status != http.StatusUnauthorized || got["error"] != oidc.ErrCodeInvalidToken {
		t.Fatalf("read after delete = %d %v; want 401 invalid_token", status, got)
	}
	st, tok, _ = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, id, secret)
	if st != http.StatusUnauthorized {
		t.Fatalf("a deleted client at the token endpoint (same container) = %d %v; want 401", st, tok)
	}
}

// TestRegistrationTokenRefusals: a wrong, missing or foreign token, and an
// unknown or static client, get the same answer.
func TestRegistrationTokenRefusals(t *testing.T) {
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}))
	_, a, _ := e.regCall("POST", oidc.PathRegister, "", webApp())
	_, b, _ := e.regCall("POST", oidc.PathRegister, "", webApp())
	pathA, tokenB := clientPath(a), b["registration_access_token"].(string)
	prefix := strings.TrimSuffix(pathA, a["client_id"].(string))
	for _, tt := range []struct{ name, method, path, token string }{
		{"wrong token", "GET", pathA, "wrong"},
		{"another client's token", "GET", pathA, tokenB},
		{"another client's token, delete", "DELETE", pathA, tokenB},
		{"unknown client", "GET", prefix + "no-such-client", tokenB},
		{"static client", "GET", prefix + confidentialID, confidentialSecret},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body, h := e.regCall(tt.method, tt.path, tt.token, nil)
			if status != http.StatusUnauthorized || body["error"] != oidc.ErrCodeInvalidToken || body["error_description"] != "the registration access token is not valid" ||
				!strings.HasPrefix(h.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
				t.Fatalf("= %d %v %q; want the one 401 invalid_token", status, body, h.Get("WWW-Authenticate"))
			}
		})
	}
	status, body, h := e.regCall("GET", pathA, "", nil)
	if status != http.StatusUnauthorized || body["error"] != nil || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token = %d %v %q; want 401 with the challenge alone (RFC 6750 §3.1)", status, body, h.Get("WWW-Authenticate"))
	}
	if status, _, _ = e.regCall("GET", pathA, a["registration_access_token"].(string), nil); status != http.StatusOK {
		t.Fatalf("the refusals changed the client: read = %d", status)
	}
}

func TestRegistrationInitialAccessToken(t *testing.T) {
	const good = "initial-access-token-0123456789"
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationInitialAccessToken, InitialAccessTokens: []string{"other-token-abcdefghijkl", good}}))
	if status, body, h := e.regCall("POST", oidc.PathRegister, "", webApp()); status != http.StatusUnauthorized || body["error"] != nil || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("without a token = %d %v", status, body)
	}
	if status, body, _ := e.regCall("POST", oidc.PathRegister, good+"x", webApp()); status != http.StatusUnauthorized || body["error"] != oidc.ErrCodeInvalidToken {
		t.Fatalf("a wrong token = %d %v; want 401 invalid_token", status, body)
	}
	if status, body, _ := e.regCall("POST", oidc.PathRegister, good, webApp()); status != http.StatusCreated {
		t.Fatalf("the right token = %d %v; want 201", status, body)
	}
}

// TestStoredClientCache: a client disabled or deleted elsewhere (another
// container, oidcctl) keeps authenticating here until ClientCacheTTL has
// passed since this container read it, and not after: by the clock.
func TestStoredClientCache(t *testing.T) {
	for _, change := range []string{"disable", "delete"} {
		t.Run(change, func(t *testing.T) {
			e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}))
			_, reg, _ := e.regCall("POST", oidc.PathRegister, "", webApp())
			id, secret := reg["client_id"].(string), reg["client_secret"].(string)
			introspect := func() int {
				req, _ := http.NewRequest("POST", e.issuer+oidc.PathIntrospect, strings.NewReader("token=unknown"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(id, secret)
				return e.do(testClient, req).status
			}
			if got := introspect(); got != http.StatusOK {
				t.Fatalf("introspection as the registered client = %d; want 200", got)
			}
			c, err := e.store.StoredClient(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if change == "disable" {
				c.Disabled = true
				err = e.store.UpdateClient(t.Context(), c)
			} else {
				err = e.store.DeleteClient(t.Context(), id)
			}
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(oidc.ClientCacheTTL - time.Second)
			if got := introspect(); got != http.StatusOK {
				t.Fatalf("within the cache time = %d; want 200 (cached)", got)
			}
			e.clock.Advance(time.Second)
			if got := introspect(); got != http.StatusUnauthorized {
				t.Fatalf("after ClientCacheTTL = %d; want 401", got)
			}
		})
	}
}

// TestRegistrationThrottle: registrations are counted per address (20 an
// hour) and in all; one over the limit is 429 temporarily_unavailable
// with Retry-After and stores nothing; the next window admits again.
func TestRegistrationThrottle(t *testing.T) {
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}))
	for i := range 20 {
		if status, body, _ := e.regCall(http.MethodPost, oidc.PathRegister, "", webApp()); status != http.StatusCreated {
			t.Fatalf("registration %d: %d %v", i, status, body)
		}
	}
	before := e.store.Snapshot()["registered"]
	status, body, header := e.regCall(http.MethodPost, oidc.PathRegister, "", webApp())
	if status != http.StatusTooManyRequests || body["error"] != oidc.ErrCodeTemporarilyUnavailable || header.Get("Retry-After") == "" {
		t.Errorf("21st registration: %d %v %v; want 429 temporarily_unavailable with Retry-After", status, body, header)
	}
	if e.store.Snapshot()["registered"] != before {
		t.Error("a throttled registration stored a client")
	}
	e.clock.Advance(time.Hour)
	if status, _, _ := e.regCall(http.MethodPost, oidc.PathRegister, "", webApp()); status != http.StatusCreated {
		t.Errorf("next window: %d; want 201", status)
	}
}

// TestSelfRegisteredClientsAlwaysAsk: a client that registered itself is
// vouched for by no operator, so its users always see the approval page,
// even with skipApprovalScreen and a remembered approval (RFC 9700
// §4.11.2); a static client then signs in without it.
func TestSelfRegisteredClientsAlwaysAsk(t *testing.T) {
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}), func(c *oidc.Config) { c.SkipApprovalScreen = true })
	_, reg, _ := e.regCall(http.MethodPost, oidc.PathRegister, "", webApp())
	for _, client := range []string{reg["client_id"].(string), confidentialID} {
		params := authParams()
		params.Set("client_id", client)
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, params))
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		p := e.postForm(c, oidc.PathLogin, form)
		asked := p.status == http.StatusOK && strings.Contains(p.body, `name="approve"`)
		if want := client != confidentialID; asked != want {
			t.Errorf("%s: approval page shown %v; want %v", client, asked, want)
		}
	}
}

// TestInitialAccessTokenGuessing: behind initial access tokens every
// attempt counts, wrong tokens too: the 21st guess from one address in an
// hour is 429, however good the token.
func TestInitialAccessTokenGuessing(t *testing.T) {
	const good = "initial-access-token-0123456789"
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationInitialAccessToken, InitialAccessTokens: []string{good}}))
	for i := range 20 {
		if status, _, _ := e.regCall(http.MethodPost, oidc.PathRegister, fmt.Sprintf("guess-%02d-abcdefghijklmn", i), webApp()); status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d; want 401", i, status)
		}
	}
	if status, body, _ := e.regCall(http.MethodPost, oidc.PathRegister, good, webApp()); status != http.StatusTooManyRequests {
		t.Errorf("after 20 guesses, the right token: %d %v; want 429", status, body)
	}
}

// TestDeletedClientTokens: once a registration is deleted (RFC 7592 §2.3),
// the client's access tokens no longer work at userinfo, within the
// client cache's lifetime (0 here).
func TestDeletedClientTokens(t *testing.T) {
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}), func(c *oidc.Config) { c.SkipApprovalScreen = true })
	_, reg, _ := e.regCall(http.MethodPost, oidc.PathRegister, "", webApp())
	id, secret, token := reg["client_id"].(string), reg["client_secret"].(string), reg["registration_access_token"].(string)
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", id)
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	_, tok, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {e.code(params)}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, id, secret)
	at := tok["access_token"].(string)
	if p := e.userinfo(http.MethodGet, "Bearer "+at, ""); p.status != http.StatusOK {
		t.Fatalf("userinfo before the deletion: %d", p.status)
	}
	if status, _, _ := e.regCall(http.MethodDelete, clientPath(reg), token, nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	if p := e.userinfo(http.MethodGet, "Bearer "+at, ""); p.status != http.StatusUnauthorized {
		t.Errorf("userinfo after the deletion: %d; want 401", p.status)
	}
}
