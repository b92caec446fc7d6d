package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestDisabledUser: a disabled user cannot sign in, their access tokens
// stop working at userinfo, and a code issued before is refused.
func TestDisabledUser(t *testing.T) {
	e := newEnv(t)
	tok := e.tokens()
	code, verifier := e.pkceCode(confidentialID)
	c := e.browser()
	form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))

	u, _ := e.store.User(t.Context(), userSubject)
	u.Disabled = true
	putUser(t, e.store, u)

	form.Set("login", userEmail)
	form.Set("password", userPassword)
	if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Invalid email or password.") {
		t.Errorf("login of a disabled user: %d; want 401 with the generic message", p.status)
	}
	if p := e.userinfo(http.MethodGet, "Bearer "+tok["access_token"].(string), ""); p.status != http.StatusUnauthorized {
		t.Errorf("userinfo for a disabled user: %d; want 401", p.status)
	}
	if status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret); status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("a code issued before the user was disabled: %d %v; want invalid_grant", status, body)
	}
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

func cookieValue(c *http.Client, u *url.URL, name string) string {
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
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

// TestThrottleLimits covers the per-address and per-account limits and the
// case-insensitive account key.
func TestThrottleLimits(t *testing.T) {
	small := func(c *oidc.Config) {
		c.LoginThrottle = oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 100, PerIP: 3, PerAccount: 100}
	}
	t.Run("per address, across accounts", func(t *testing.T) {
		e := newEnv(t, small)
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
		for i, login := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			form.Set("login", login)
			form.Set("password", "wrong")
			if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i+1, p.status)
			}
		}
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusTooManyRequests {
			t.Errorf("after 3 failures from this address: %d; want 429", p.status)
		}
	})
	t.Run("per account, case-insensitive", func(t *testing.T) {
		e := newEnv(t, func(c *oidc.Config) {
			c.LoginThrottle = oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 100, PerIP: 100, PerAccount: 2}
		})
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
		for _, login := range []string{"ADMIN@example.com", "admin@EXAMPLE.com"} {
			form.Set("login", login)
			form.Set("password", "wrong")
			e.postForm(c, oidc.PathLogin, form)
		}
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusTooManyRequests {
			t.Errorf("after 2 failures on the account in other cases: %d; want 429", p.status)
		}
	})
}

// TestCORSPerClient: an origin allowed for one client reads only that
// client's answers; near-miss origins get nothing.
func TestCORSPerClient(t *testing.T) {
	const spaOrigin = "http://127.0.0.1:4000"
	e := newEnv(t, func(c *oidc.Config) {
		c.AllowedOrigins = nil
		c.ClientOrigins = []string{spaOrigin}
	})
	e.store.PutClient(oidc.Client{ID: "spa", Public: true, RedirectURIs: []string{redirectURI}, AllowedOrigins: []string{spaOrigin}})
	tok := e.tokens() // issued to example-app, which has no origins

	call := func(origin, path string, form url.Values, authz string) http.Header {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		return e.do(http.DefaultClient, req).header
	}
	// The SPA's own origin may read discovery.
	req, _ := http.NewRequest(http.MethodGet, e.issuer+oidc.PathDiscovery, nil)
	req.Header.Set("Origin", spaOrigin)
	if got := e.do(http.DefaultClient, req).header.Get("Access-Control-Allow-Origin"); got != spaOrigin {
		t.Errorf("discovery from the SPA's origin: ACAO %q", got)
	}
	// But not another client's token or userinfo answers.
	basic := "Basic " + basicAuth(confidentialID, confidentialSecret)
	if h := call(spaOrigin, oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"}}, basic); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("token answer for example-app readable from the SPA's origin")
	}
	if h := call(spaOrigin, oidc.PathUserInfo, url.Values{"access_token": {tok["access_token"].(string)}}, ""); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("userinfo for example-app's token readable from the SPA's origin")
	}
	// The SPA's own token request is readable.
	if h := call(spaOrigin, oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"}, "client_id": {"spa"}}, ""); h.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Errorf("the SPA's own token answer is not readable from its origin")
	}
	// Near misses get nothing.
	for _, origin := range []string{"http://127.0.0.1:40000", "http://127.0.0.1:4000.evil.example", "https://127.0.0.1:4000", "http://127.0.0.1:400", "null"} {
		req, _ := http.NewRequest(http.MethodGet, e.issuer+oidc.PathDiscovery, nil)
		req.Header.Set("Origin", origin)
		if got := e.do(http.DefaultClient, req).header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("origin %q allowed", origin)
		}
	}
}

func basicAuth(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(id, secret)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// TestShorterPoliciesApplyToStoredState: sessions and refresh families are
// judged by the provider's current settings, not only by the expiry stored
// when they were written (a deployment that shortens a lifetime takes effect
// at once).
func TestShorterPoliciesApplyToStoredState(t *testing.T) {
	e := sessionEnv(t)
	c := e.browser()
	e.signIn(c, confidentialID, userEmail)
	rt := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)

	strict := httptest.NewUnstartedServer(nil)
	issuer := "http://" + strict.Listener.Addr().String()
	p, err := oidc.New(oidc.Config{
		Settings:     oidc.Settings{Issuer: issuer, Now: e.clock.Now, SessionIdleTimeout: time.Hour, RefreshTokens: oidc.RefreshPolicy{ValidIfNotUsedFor: time.Hour}},
		Clients:      e.store,
		Users:        e.store,
		AuthRequests: e.store,
		Codes:        e.store,
		Refresh:      e.store,
		Revocations:  e.store,
		Sessions:     e.store,
		Consents:     e.store,
		Attempts:     e.store,
		Signer:       testSigner,
	})
	if err != nil {
		t.Fatal(err)
	}
	strict.Config.Handler = p.Handler()
	strict.Start()
	defer strict.Close()
	e.clock.Advance(2 * time.Hour)

	params := authParams()
	params.Set("prompt", "none")
	req, _ := http.NewRequest(http.MethodGet, issuer+oidc.PathAuthorize+"?"+params.Encode(), nil)
	if got := outcome(t, e.do(c, req)); got != oidc.ErrCodeLoginRequired {
		t.Errorf("a session idle for 2h under a 1h idle timeout: %s; want login_required", got)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, _ = http.NewRequest(http.MethodPost, issuer+oidc.PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(confidentialID, confidentialSecret)
	if pg := e.do(http.DefaultClient, req); pg.status != 400 {
		t.Errorf("a refresh token unused for 2h under a 1h limit: %d; want 400", pg.status)
	}
}
