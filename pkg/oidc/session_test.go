package oidc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

const (
	otherEmail   = "bob@example.com"
	otherSubject = "bob-subject"
	logoutURI    = "http://127.0.0.1:5555/logged-out"
)

// sessionEnv has a second user and a client with a post-logout URI.
func sessionEnv(t *testing.T) *env {
	e := newEnv(t)
	putUser(e.t, e.store, oidc.User{Subject: otherSubject, Email: otherEmail, PasswordHash: passwordHash})
	e.store.PutClient(oidc.Client{ID: confidentialID, Name: "Example App", SecretHash: oidc.HashSecret(confidentialSecret),
		RedirectURIs: []string{redirectURI}, PostLogoutRedirectURIs: []string{logoutURI}})
	return e
}

// signIn logs the browser in through client_id and returns the ID token.
func (e *env) signIn(c *http.Client, clientID, email string) string {
	e.t.Helper()
	params := authParams()
	params.Set("client_id", clientID)
	p := e.get(c, oidc.PathAuthorize, params)
	form := formFields(e.t, p)
	form.Set("login", email)
	form.Set("password", userPassword)
	p = e.postForm(c, oidc.PathLogin, form)
	if strings.Contains(p.body, `name="approve"`) {
		consent := formFields(e.t, p)
		consent.Set("approve", "1")
		p = e.postForm(c, oidc.PathConsent, consent)
	}
	code := mustParse(e.t, p.header.Get("Location")).Query().Get("code")
	secret := confidentialSecret
	if clientID == otherID {
		secret = otherSecret
	}
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, clientID, secret)
	if status != 200 {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return body["id_token"].(string)
}

// outcome classifies an authorization answer: "code" (silent success),
// "login" or "consent" (a page), or the error code sent to the client.
func outcome(t *testing.T, p page) string {
	t.Helper()
	switch {
	case p.status == http.StatusOK && strings.Contains(p.body, `name="password"`):
		return "login"
	case p.status == http.StatusOK && strings.Contains(p.body, `name="approve"`):
		return "consent"
	case p.status == http.StatusFound || p.status == http.StatusSeeOther:
		q := mustParse(t, p.header.Get("Location")).Query()
		if q.Has("code") {
			return "code"
		}
		return q.Get("error")
	}
	return "status " + p.header.Get("Content-Type") + " " + p.body
}

func TestSingleSignOn(t *testing.T) {
	e := sessionEnv(t)
	c := e.browser()
	loginTime := e.clock.Now()
	e.signIn(c, confidentialID, userEmail)

	// A second client signs in without a password; only its own approval is asked.
	params := authParams()
	params.Set("client_id", otherID)
	p := e.get(c, oidc.PathAuthorize, params)
	if got := outcome(t, p); got != "consent" {
		t.Fatalf("second client: %s; want the approval page only", got)
	}
	consent := formFields(t, p)
	consent.Set("approve", "1")
	p = e.postForm(c, oidc.PathConsent, consent)
	if got := outcome(t, p); got != "code" {
		t.Fatalf("second client after approval: %s", got)
	}
	// Both clients now get silent answers, prompt=none included.
	for _, client := range []string{confidentialID, otherID} {
		params.Set("client_id", client)
		params.Set("prompt", "none")
		if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != "code" {
			t.Errorf("%s, prompt=none: %s; want code", client, got)
		}
	}
	// The silent code works, and its ID token keeps the original auth_time.
	params.Set("client_id", confidentialID)
	e.clock.Advance(time.Minute)
	claims, _ := e.idTokenClaimsFrom(c, params)
	if claims["sub"] != userSubject || claims["acr"] != "1" || stringList(claims["amr"])[0] != "pwd" {
		t.Errorf("silent ID token sub %v acr %v amr %v", claims["sub"], claims["acr"], claims["amr"])
	}
	if at := int64(claims["auth_time"].(float64)); at != loginTime.Unix() {
		t.Errorf("auth_time = %d; want the login time %d", at, loginTime.Unix())
	}
	// Cookie attributes.
	u, _ := url.Parse(e.issuer)
	var found bool
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "oidc_session" {
			found = true
		}
	}
	if !found {
		t.Errorf("no session cookie")
	}
}

// idTokenClaimsFrom runs an authorization in browser c that must answer
// silently, and redeems the code.
func (e *env) idTokenClaimsFrom(c *http.Client, params url.Values) (map[string]any, map[string]any) {
	e.t.Helper()
	p := e.get(c, oidc.PathAuthorize, params)
	code := mustParse(e.t, p.header.Get("Location")).Query().Get("code")
	if code == "" {
		e.t.Fatalf("no silent code: %d %s", p.status, p.header.Get("Location"))
	}
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, confidentialID, confidentialSecret)
	if status != 200 {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return e.verifyIDToken(body["id_token"].(string), confidentialID), body
}

// TestPromptAndMaxAge covers the prompt, max_age and id_token_hint cases of
// the OpenID Connect Basic OP certification plan.
func TestPromptAndMaxAge(t *testing.T) {
	e := sessionEnv(t)
	signedIn := e.browser()
	loginTime := e.clock.Now()
	ownHint := e.signIn(signedIn, confidentialID, userEmail)
	bob := e.browser()
	foreignHint := e.signIn(bob, confidentialID, otherEmail)
	e.clock.Advance(10 * time.Minute)

	tests := []struct {
		name    string
		browser *http.Client
		params  map[string]string
		want    string
	}{
		{"no session", e.browser(), nil, "login"},
		{"no session, prompt=none", e.browser(), map[string]string{"prompt": "none"}, oidc.ErrCodeLoginRequired},
		{"session", signedIn, nil, "code"},
		{"session, prompt=none", signedIn, map[string]string{"prompt": "none"}, "code"},
		{"session, prompt=login", signedIn, map[string]string{"prompt": "login"}, "login"},
		{"session, prompt=select_account", signedIn, map[string]string{"prompt": "select_account"}, "login"},
		{"session, prompt=consent", signedIn, map[string]string{"prompt": "consent"}, "consent"},
		{"session, prompt=none login", signedIn, map[string]string{"prompt": "none login"}, oidc.ErrCodeInvalidRequest},
		{"session, unknown prompt", signedIn, map[string]string{"prompt": "bogus"}, oidc.ErrCodeInvalidRequest},
		{"session, prompt=none, new client without consent", signedIn, map[string]string{"prompt": "none", "client_id": otherID}, oidc.ErrCodeConsentRequired},
		{"max_age within", signedIn, map[string]string{"max_age": "3600"}, "code"},
		{"max_age exceeded", signedIn, map[string]string{"max_age": "60"}, "login"},
		{"max_age exceeded, prompt=none", signedIn, map[string]string{"max_age": "60", "prompt": "none"}, oidc.ErrCodeLoginRequired},
		{"max_age=0", signedIn, map[string]string{"max_age": "0"}, "login"},
		{"id_token_hint of the session user", signedIn, map[string]string{"id_token_hint": ownHint, "prompt": "none"}, "code"},
		{"id_token_hint of another user", signedIn, map[string]string{"id_token_hint": foreignHint}, "login"},
		{"id_token_hint of another user, prompt=none", signedIn, map[string]string{"id_token_hint": foreignHint, "prompt": "none"}, oidc.ErrCodeLoginRequired},
		{"tampered id_token_hint", signedIn, map[string]string{"id_token_hint": tamper(ownHint)}, oidc.ErrCodeInvalidRequest},
		{"id_token_hint without session, prompt=none", e.browser(), map[string]string{"id_token_hint": ownHint, "prompt": "none"}, oidc.ErrCodeLoginRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := authParams()
			for k, v := range tt.params {
				params.Set(k, v)
			}
			if got := outcome(t, e.get(tt.browser, oidc.PathAuthorize, params)); got != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
		})
	}
	t.Run("expired id_token_hint is accepted", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour) // past the ID token's exp, within the session's idle timeout
		params := authParams()
		params.Set("id_token_hint", ownHint)
		params.Set("prompt", "none")
		if got := outcome(t, e.get(signedIn, oidc.PathAuthorize, params)); got != "code" {
			t.Errorf("got %s; want code", got)
		}
	})
	t.Run("auth_time is the login's when max_age is sent", func(t *testing.T) {
		params := authParams()
		params.Set("max_age", "86400")
		claims, _ := e.idTokenClaimsFrom(signedIn, params)
		if at, _ := claims["auth_time"].(float64); int64(at) != loginTime.Unix() {
			t.Errorf("auth_time = %v; want the login's %d", claims["auth_time"], loginTime.Unix())
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	e := sessionEnv(t)
	t.Run("idle timeout", func(t *testing.T) {
		c := e.browser()
		e.signIn(c, confidentialID, userEmail)
		e.clock.Advance(24 * time.Hour)
		params := authParams()
		params.Set("prompt", "none")
		if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != oidc.ErrCodeLoginRequired {
			t.Errorf("after the idle timeout: %s", got)
		}
	})
	t.Run("activity extends the idle timeout, not the absolute lifetime", func(t *testing.T) {
		c := e.browser()
		e.signIn(c, confidentialID, userEmail)
		params := authParams()
		params.Set("prompt", "none")
		for day := 1; day <= 8; day++ { // 160h in all
			e.clock.Advance(20 * time.Hour)
			if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != "code" {
				t.Fatalf("day %d: %s; want code", day, got)
			}
		}
		e.clock.Advance(20 * time.Hour) // 180h > 168h
		if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != oidc.ErrCodeLoginRequired {
			t.Errorf("past the absolute lifetime: %s", got)
		}
	})
	t.Run("unknown cookie is ignored", func(t *testing.T) {
		c := e.browser()
		u, _ := url.Parse(e.issuer)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "oidc_session", Value: strings.Repeat("A", 43), Path: "/"}})
		if got := outcome(t, e.get(c, oidc.PathAuthorize, authParams())); got != "login" {
			t.Errorf("got %s; want login", got)
		}
	})
	t.Run("disabled user's session ends", func(t *testing.T) {
		c := e.browser()
		e.signIn(c, confidentialID, otherEmail)
		u, _ := e.store.User(t.Context(), otherSubject)
		u.Disabled = true
		putUser(e.t, e.store, u)
		params := authParams()
		params.Set("prompt", "none")
		if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != oidc.ErrCodeLoginRequired {
			t.Errorf("got %s; want login_required", got)
		}
	})
}

// TestSessionCookieAttributes reads the Set-Cookie of a login.
func TestSessionCookieAttributes(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	p := e.postForm(c, oidc.PathLogin, form)
	var session *http.Cookie
	for _, ck := range (&http.Response{Header: p.header}).Cookies() {
		if ck.Name == "oidc_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("no session cookie in %v", p.header.Values("Set-Cookie"))
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Domain != "" ||
		session.MaxAge != int((7*24*time.Hour)/time.Second) || len(session.Value) != 43 {
		t.Errorf("session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/, no Domain, Max-Age of the session lifetime, 256-bit value", session)
	}
	if session.Secure {
		t.Errorf("Secure on a loopback http issuer: the browser would drop it")
	}
}

// TestHostPrefixOnHTTPS: with an https issuer, cookies carry the __Host-
// prefix and Secure.
func TestHostPrefixOnHTTPS(t *testing.T) {
	e := newEnv(t)
	p, err := oidc.New(oidc.Config{
		Settings:     oidc.Settings{Issuer: "https://id.example.com"},
		Clients:      e.store,
		Users:        e.store,
		AuthRequests: e.store,
		Codes:        e.store,
		Refresh:      e.store,
		Revocations:  e.store,
		Sessions:     e.store,
		Consents:     e.store,
		Attempts:     e.store,
		Devices:      e.store,
		Signer:       testSigner,
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://id.example.com/authorize?"+authParams().Encode(), nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != "__Host-oidc_browser" || !cookies[0].Secure || cookies[0].Path != "/" || cookies[0].Domain != "" {
		t.Errorf("cookies = %+v; want one __Host- cookie, Secure, Path=/, no Domain", cookies)
	}
}

// TestNewLoginEndsThePreviousSession: a second login (prompt=login) issues
// a new session cookie and ends the old session.
func TestNewLoginEndsThePreviousSession(t *testing.T) {
	e := sessionEnv(t)
	c := e.browser()
	e.signIn(c, confidentialID, userEmail)
	u, _ := url.Parse(e.issuer)
	old := cookieValue(c, u, "oidc_session")
	params := authParams()
	params.Set("prompt", "login")
	form := formFields(t, e.get(c, oidc.PathAuthorize, params))
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	e.postForm(c, oidc.PathLogin, form)
	if now := cookieValue(c, u, "oidc_session"); now == "" || now == old {
		t.Fatalf("session cookie not replaced")
	}
	stale := e.browser()
	stale.Jar.SetCookies(u, []*http.Cookie{{Name: "oidc_session", Value: old, Path: "/"}})
	params.Set("prompt", "none")
	if got := outcome(t, e.get(stale, oidc.PathAuthorize, params)); got != oidc.ErrCodeLoginRequired {
		t.Errorf("the previous session: %s; want login_required (ended)", got)
	}
}

// TestMaxAgeBoundary: exactly max_age seconds since the login is still
// fresh enough; one second more forces a login (OpenID Connect Core
// §3.1.2.1: "greater than").
func TestMaxAgeBoundary(t *testing.T) {
	e := sessionEnv(t)
	c := e.browser()
	e.signIn(c, confidentialID, userEmail)
	params := authParams()
	params.Set("max_age", "300")
	e.clock.Advance(300 * time.Second)
	if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != "code" {
		t.Errorf("at max_age: %s; want code", got)
	}
	e.clock.Advance(time.Second)
	if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != "login" {
		t.Errorf("max_age + 1s: %s; want login", got)
	}
}

// lostCompletion is a store whose pending requests are always completed
// by someone else first: CompleteAuthRequest fails with ErrConflict.
type lostCompletion struct{ oidc.AuthRequestStore }

func (lostCompletion) CompleteAuthRequest(context.Context, string, int64, *oidc.AuthCode) error {
	return oidc.ErrConflict
}

// TestLostLoginLeavesNoSession: a login whose completion loses to another
// window leaves the browser without the session it started (it could be
// another account's than the one the client got).
func TestLostLoginLeavesNoSession(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) { c.SkipApprovalScreen = true; c.AuthRequests = lostCompletion{c.AuthRequests} })
	c := e.browser()
	p := e.completeLogin(c, e.get(c, oidc.PathAuthorize, authParams()))
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "already completed in another window") {
		t.Fatalf("lost completion: %d; want the page saying so:\n%s", p.status, p.body)
	}
	u, _ := url.Parse(e.issuer)
	if v := cookieValue(c, u, "oidc_session"); v != "" {
		t.Errorf("session cookie %q left in the browser", v)
	}
	if sessions := e.store.Snapshot()["sessions"]; sessions != "" {
		t.Errorf("sessions left in the store:\n%s", sessions)
	}
}
