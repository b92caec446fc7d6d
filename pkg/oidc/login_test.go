package oidc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestLoginFailures(t *testing.T) {
	e := newEnv(t)
	t.Run("wrong password", func(t *testing.T) {
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
		for _, login := range []string{userEmail, "nobody@example.com"} {
			form.Set("login", login)
			form.Set("password", "wrong")
			p := e.postForm(c, oidc.PathLogin, form)
			if p.status != http.StatusUnauthorized || p.header.Get("Location") != "" {
				t.Fatalf("%s: status %d, Location %q; want 401 and the form again", login, p.status, p.header.Get("Location"))
			}
			if !strings.Contains(p.body, "Invalid email or password.") || !strings.Contains(p.body, `name="password"`) {
				t.Errorf("%s: want the generic message and the form:\n%s", login, p.body)
			}
		}
		// The form still works after failures.
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusOK || !strings.Contains(p.body, "Grant access") {
			t.Errorf("correct password after failures: status %d; want the consent page", p.status)
		}
	})
	t.Run("missing CSRF token", func(t *testing.T) {
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
		form.Del("csrf")
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		p := e.postForm(c, oidc.PathLogin, form)
		if p.status != http.StatusForbidden || p.header.Get("Location") != "" {
			t.Errorf("status %d, Location %q; want a 403 page", p.status, p.header.Get("Location"))
		}
	})
	t.Run("wrong CSRF token", func(t *testing.T) {
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
		form.Set("csrf", "AAAA"+form.Get("csrf")[4:])
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusForbidden {
			t.Errorf("status %d; want 403", p.status)
		}
	})
	t.Run("login CSRF: a request started in another browser", func(t *testing.T) {
		attacker := e.browser()
		form := formFields(t, e.get(attacker, oidc.PathAuthorize, authParams()))
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		victim := e.browser() // has no binding cookie for the attacker's request
		if p := e.postForm(victim, oidc.PathLogin, form); p.status != http.StatusForbidden {
			t.Errorf("status %d; want 403", p.status)
		}
	})
	t.Run("expired login", func(t *testing.T) {
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
		e.clock.Advance(31 * 60 * 1e9)
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusBadRequest || !strings.Contains(p.body, "expired") {
			t.Errorf("status %d; want 400 expired page", p.status)
		}
	})
	t.Run("oversize body", func(t *testing.T) {
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
		form.Set("password", strings.Repeat("p", 70<<10))
		if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d; want 413", p.status)
		}
	})
}

func TestLoginHintPrefills(t *testing.T) {
	e := newEnv(t)
	params := authParams()
	params.Set("login_hint", `a"<b>@example.com`)
	p := e.get(e.browser(), oidc.PathAuthorize, params)
	if !strings.Contains(p.body, `value="a&#34;&lt;b&gt;@example.com"`) {
		t.Errorf("login_hint not prefilled (escaped):\n%s", p.body)
	}
}
