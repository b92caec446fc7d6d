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

	u, _ := e.store.User(t.Context(), userID)
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

func cookieValue(c *http.Client, u *url.URL, name string) string {
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
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
		Devices:      e.store,
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
	if pg := e.do(testClient, req); pg.status != 400 {
		t.Errorf("a refresh token unused for 2h under a 1h limit: %d; want 400", pg.status)
	}
}
