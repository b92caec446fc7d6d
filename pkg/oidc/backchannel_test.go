package oidc_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): logout
// tokens reach local receivers, which verify them as §2.6 says, with the
// provider's JWKS.

const thirdID = "third-app" // signs in through the session, has no backchannel_logout_uri

// receiver is an RP's back-channel logout endpoint on 127.0.0.1: it
// records every logout token POSTed to it by path, and answers with
// answer (nil: 200).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	tokens map[string][]string // path → logout tokens, in arrival order
	answer func(w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{tokens: map[string][]string{}, answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("logout token sent by %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		rc.mu.Lock()
		rc.tokens[r.URL.Path] = append(rc.tokens[r.URL.Path], r.PostFormValue("logout_token"))
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(w, r)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got(path string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.tokens[path]...)
}

// backchannelEnv: confidentialID and otherID send their logout tokens to
// rc (/a and /b), thirdID has none; deliveries are bounded tightly.
func backchannelEnv(t *testing.T, rc *receiver) *env {
	t.Helper()
	e := newEnv(t, func(c *oidc.Config) {
		c.BackchannelLogout = oidc.BackchannelLogoutDelivery{Timeout: 300 * time.Millisecond, Attempts: 3, Backoff: 20 * time.Millisecond, Budget: 3 * time.Second}
		c.LogoutHTTPClient = testClient
	})
	e.store.PutClient(oidc.Client{ID: confidentialID, Name: "Example App", SecretHash: oidc.HashSecret(confidentialSecret),
		RedirectURIs: []string{redirectURI}, PostLogoutRedirectURIs: []string{logoutURI}, BackchannelLogoutURI: rc.srv.URL + "/a"})
	e.store.PutClient(oidc.Client{ID: otherID, SecretHash: oidc.HashSecret(otherSecret), RedirectURIs: []string{redirectURI},
		BackchannelLogoutURI: rc.srv.URL + "/b?tenant=1", BackchannelLogoutSessionRequired: true})
	e.store.PutClient(oidc.Client{ID: thirdID, SecretHash: oidc.HashSecret(otherSecret), RedirectURIs: []string{redirectURI}})
	return e
}

// idTokenFor signs browser c in to clientID through its session (or a
// login when it has none), approving the consent page if shown, and
// returns the ID token's claims.
func (e *env) idTokenFor(c *http.Client, clientID string) (string, jwt.MapClaims) {
	e.t.Helper()
	params := authParams()
	params.Set("client_id", clientID)
	p := e.get(c, oidc.PathAuthorize, params)
	if strings.Contains(p.body, `name="password"`) {
		p = e.completeLogin(c, p)
	} else if strings.Contains(p.body, `name="approve"`) {
		consent := formFields(e.t, p)
		consent.Set("approve", "1")
		p = e.postForm(c, oidc.PathConsent, consent)
	}
	code := mustParse(e.t, p.header.Get("Location")).Query().Get("code")
	secret := otherSecret
	if clientID == confidentialID {
		secret = confidentialSecret
	}
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, clientID, secret)
	if status != http.StatusOK {
		e.t.Fatalf("token for %s: %d %v", clientID, status, body)
	}
	raw := body["id_token"].(string)
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
		e.t.Fatal(err)
	}
	return raw, claims
}

// verifyLogoutToken validates raw as an RP does (§2.6) for clientID,
// with the keys of the provider's JWKS, and returns its claims.
func (e *env) verifyLogoutToken(t *testing.T, raw, clientID string) jwt.MapClaims {
	t.Helper()
	p := e.get(testClient, oidc.PathJWKS, nil)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(p.body), &set); err != nil {
		t.Fatal(err)
	}
	tok, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	h := tok.Signatures[0].Header
	if h.ExtraHeaders[jose.HeaderType] != "logout+jwt" {
		t.Errorf("typ = %v; want logout+jwt", h.ExtraHeaders[jose.HeaderType])
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
	}
	payload, err := tok.Verify(keys[0])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	claims := jwt.MapClaims{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	now := float64(e.clock.Now().Unix())
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	events, _ := claims["events"].(map[string]any)
	event, isObject := events[oidc.EventBackchannelLogout].(map[string]any)
	switch {
	case claims["iss"] != e.issuer:
		t.Errorf("iss = %v; want %s", claims["iss"], e.issuer)
	case claims["aud"] != clientID && !audContains(claims["aud"], clientID):
		t.Errorf("aud = %v; want %s", claims["aud"], clientID)
	case iat < now-5 || iat > now+5 || exp <= iat || exp > iat+120:
		t.Errorf("iat %v, exp %v; want iat now (%v) and a short exp", iat, exp, now)
	case claims["jti"] == nil || claims["jti"] == "":
		t.Errorf("no jti")
	case !isObject || len(event) != 0 || len(events) != 1:
		t.Errorf("events = %v; want {%q: {}}", claims["events"], oidc.EventBackchannelLogout)
	case claims["nonce"] != nil:
		t.Errorf("a logout token MUST NOT contain a nonce: %v", claims["nonce"])
	case claims["sub"] == nil && claims["sid"] == nil:
		t.Errorf("neither sub nor sid")
	}
	return claims
}

func audContains(aud any, id string) bool {
	list, _ := aud.([]any)
	return len(list) == 1 && list[0] == id
}

// TestBackchannelLogout: other-app signs in through the session silently
// (it was approved before) or after the approval page; either way the
// session records it, and its end reaches it.
func TestBackchannelLogout(t *testing.T) {
	for _, approved := range []bool{false, true} {
		t.Run(fmt.Sprintf("approved before %v", approved), func(t *testing.T) { testBackchannelLogout(t, approved) })
	}
}

func testBackchannelLogout(t *testing.T, approved bool) {
	rc := newReceiver(t, nil)
	e := backchannelEnv(t, rc)
	if approved {
		err := e.store.PutConsent(t.Context(), oidc.Consent{Subject: userSubject, ClientID: otherID,
			Scopes: []string{"openid", "email", "profile", "groups"}, Expiry: e.clock.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
	}
	c := e.browser()
	hint, first := e.idTokenFor(c, confidentialID)
	_, second := e.idTokenFor(c, otherID) // from the session
	_, third := e.idTokenFor(c, thirdID)
	sid, _ := first["sid"].(string)
	if len(sid) < 32 || second["sid"] != sid || third["sid"] != sid {
		t.Fatalf("sid = %q, %v, %v; want one random value for the session", sid, second["sid"], third["sid"])
	}
	for _, ck := range c.Jar.Cookies(mustParse(t, e.issuer)) {
		if ck.Value == sid || oidc.HashSecret(ck.Value) == sid {
			t.Fatalf("sid is the cookie %s or its hash", ck.Name)
		}
	}
	if len(rc.got("/a")) != 0 {
		t.Fatalf("logout tokens before logout")
	}

	p := e.get(c, oidc.PathLogout, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {logoutURI}})
	if p.status != http.StatusFound || p.header.Get("Location") != logoutURI {
		t.Fatalf("logout: %d %q", p.status, p.header.Get("Location"))
	}
	for _, tc := range []struct{ path, client string }{{"/a", confidentialID}, {"/b", otherID}} {
		got := rc.got(tc.path)
		if len(got) != 1 {
			t.Fatalf("%s: %d logout tokens; want 1", tc.client, len(got))
		}
		claims := e.verifyLogoutToken(t, got[0], tc.client)
		if claims["sid"] != sid || claims["sub"] != userSubject {
			t.Errorf("%s: sid %v, sub %v; want %s, %s", tc.client, claims["sid"], claims["sub"], sid, userSubject)
		}
	}
	if n := len(rc.tokens); n != 2 {
		t.Errorf("logout tokens went to %d paths; want 2 (%s has no URI)", n, thirdID)
	}
	// A second logout finds no session: nobody is told twice.
	e.get(c, oidc.PathLogout, url.Values{"id_token_hint": {hint}})
	if len(rc.got("/a")) != 1 {
		t.Errorf("a logout without a session sent another logout token")
	}
}

// TestBackchannelLogoutOnNewLogin: a login that replaces the browser's
// session ends it, and its clients are told with its sid.
func TestBackchannelLogoutOnNewLogin(t *testing.T) {
	rc := newReceiver(t, nil)
	e := backchannelEnv(t, rc)
	c := e.browser()
	_, first := e.idTokenFor(c, confidentialID)
	params := authParams()
	params.Set("prompt", "login")
	e.login(c, params)
	got := rc.got("/a")
	if len(got) != 1 {
		t.Fatalf("%d logout tokens after a new login; want 1", len(got))
	}
	if claims := e.verifyLogoutToken(t, got[0], confidentialID); claims["sid"] != first["sid"] {
		t.Errorf("sid %v; want the replaced session's %v", claims["sid"], first["sid"])
	}
	if _, second := e.idTokenFor(c, confidentialID); second["sid"] == first["sid"] {
		t.Errorf("the new session kept the old sid")
	}
}

// TestBackchannelLogoutFailingReceiver: a receiver that fails (5xx, no
// answer in time) is retried a bounded number of times; one that refuses
// (400) is not; the user's logout completes either way, within the budget.
func TestBackchannelLogoutFailingReceiver(t *testing.T) {
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		want   int
	}{
		{"5xx", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, 3},
		{"timeout", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, 3},
		{"400", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) }, 1},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, tc.answer)
			e := backchannelEnv(t, rc)
			c := e.browser()
			hint, _ := e.idTokenFor(c, confidentialID)
			start := time.Now()
			p := e.get(c, oidc.PathLogout, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {logoutURI}})
			if p.status != http.StatusFound || p.header.Get("Location") != logoutURI {
				t.Fatalf("logout: %d %q", p.status, p.header.Get("Location"))
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("logout took %v; want within the budget", took)
			}
			if got := len(rc.got("/a")); got != tc.want {
				t.Errorf("%d attempts; want %d", got, tc.want)
			}
			if len(rc.got("/elsewhere")) != 0 {
				t.Errorf("a redirect was followed")
			}
			params := authParams()
			params.Set("prompt", "none")
			if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != oidc.ErrCodeLoginRequired {
				t.Errorf("after logout: %s; want login_required", got)
			}
		})
	}
}

// TestBackchannelLogoutRefreshKeepsSID: an ID token from a refresh carries
// the sid of the session the grant started in.
func TestBackchannelLogoutRefreshKeepsSID(t *testing.T) {
	e := backchannelEnv(t, newReceiver(t, nil))
	params := authParams()
	params.Set("scope", "openid offline_access")
	code := mustParse(t, e.login(e.browser(), params).String()).Query().Get("code")
	_, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, confidentialID, confidentialSecret)
	_, refreshed, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, confidentialID, confidentialSecret)
	sid := func(raw any) any {
		claims := jwt.MapClaims{}
		s, _ := raw.(string)
		_, _, _ = jwt.NewParser().ParseUnverified(s, claims)
		return claims["sid"]
	}
	if a, b := sid(body["id_token"]), sid(refreshed["id_token"]); a == nil || a != b {
		t.Errorf("sid %v after the code, %v after a refresh; want the same", a, b)
	}
}
