package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestLogout(t *testing.T) {
	e := sessionEnv(t)
	silent := func(c *http.Client) string {
		params := authParams()
		params.Set("prompt", "none")
		return outcome(t, e.get(c, oidc.PathAuthorize, params))
	}
	t.Run("with id_token_hint and a registered URI", func(t *testing.T) {
		c := e.browser()
		hint := e.signIn(c, confidentialID, userEmail)
		p := e.get(c, oidc.PathLogout, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {logoutURI}, "state": {"bye"}})
		if p.status != http.StatusFound || p.header.Get("Location") != logoutURI+"?state=bye" {
			t.Fatalf("logout: %d %q", p.status, p.header.Get("Location"))
		}
		if got := silent(c); got != oidc.ErrCodeLoginRequired {
			t.Errorf("after logout: %s; want login_required", got)
		}
	})
	t.Run("unregistered URI shows a page", func(t *testing.T) {
		c := e.browser()
		hint := e.signIn(c, confidentialID, userEmail)
		for _, uri := range []string{"https://evil.example/", logoutURI + "/", redirectURI} {
			p := e.get(c, oidc.PathLogout, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {uri}})
			if p.header.Get("Location") != "" || !strings.Contains(p.body, "signed out") {
				t.Errorf("%s: %d %q; want the signed-out page", uri, p.status, p.header.Get("Location"))
			}
			assertPageHeaders(t, p)
		}
	})
	t.Run("client_id names the client", func(t *testing.T) {
		c := e.browser()
		e.signIn(c, confidentialID, userEmail)
		// Without a hint the user confirms first.
		p := e.get(c, oidc.PathLogout, url.Values{"client_id": {confidentialID}, "post_logout_redirect_uri": {logoutURI}})
		if !strings.Contains(p.body, `name="confirm"`) {
			t.Fatalf("no confirmation page: %d %s", p.status, p.body)
		}
		form := url.Values{}
		for _, m := range formInput.FindAllStringSubmatch(p.body, -1) {
			form.Set(m[1], htmlUnescape(m[2]))
		}
		// A forged confirmation (no CSRF token) signs nobody out.
		forged := url.Values{"confirm": {"1"}, "client_id": {confidentialID}}
		if p := e.postForm(c, oidc.PathLogout, forged); !strings.Contains(p.body, `name="confirm"`) {
			t.Errorf("a confirmation without the CSRF token was accepted")
		}
		form.Set("confirm", "1")
		p = e.postForm(c, oidc.PathLogout, form)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != logoutURI {
			t.Fatalf("confirmed logout: %d %q", p.status, p.header.Get("Location"))
		}
		if got := silent(c); got != oidc.ErrCodeLoginRequired {
			t.Errorf("after logout: %s", got)
		}
	})
	t.Run("foreign id_token_hint asks for confirmation", func(t *testing.T) {
		c := e.browser()
		e.signIn(c, confidentialID, userEmail)
		foreign := e.signIn(e.browser(), confidentialID, otherEmail)
		p := e.get(c, oidc.PathLogout, url.Values{"id_token_hint": {foreign}})
		if !strings.Contains(p.body, `name="confirm"`) {
			t.Errorf("no confirmation for a foreign hint: %s", p.body)
		}
		if got := silent(c); got != "code" {
			t.Errorf("the session ended without confirmation: %s", got)
		}
	})
	t.Run("tampered id_token_hint", func(t *testing.T) {
		c := e.browser()
		hint := e.signIn(c, confidentialID, userEmail)
		p := e.get(c, oidc.PathLogout, url.Values{"id_token_hint": {tamper(hint)}, "post_logout_redirect_uri": {logoutURI}})
		if p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
			t.Errorf("%d %q; want a 400 page", p.status, p.header.Get("Location"))
		}
		if got := silent(c); got != "code" {
			t.Errorf("a tampered hint ended the session: %s", got)
		}
	})
	t.Run("hint and client_id disagree", func(t *testing.T) {
		c := e.browser()
		hint := e.signIn(c, confidentialID, userEmail)
		p := e.get(c, oidc.PathLogout, url.Values{"id_token_hint": {hint}, "client_id": {otherID}})
		if p.status != http.StatusBadRequest {
			t.Errorf("status %d; want 400", p.status)
		}
	})
	t.Run("no session", func(t *testing.T) {
		p := e.get(e.browser(), oidc.PathLogout, nil)
		if p.status != 200 || !strings.Contains(p.body, "signed out") {
			t.Errorf("%d %s", p.status, p.body)
		}
	})
}
