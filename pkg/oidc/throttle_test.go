package oidc_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestLoginThrottle: after PerAccountAndIP failures the password is not
// checked until the window passes; other accounts are unaffected.
func TestLoginThrottle(t *testing.T) {
	e := sessionEnv(t)
	c := e.browser()
	form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
	try := func(login, password string) page {
		form.Set("login", login)
		form.Set("password", password)
		return e.postForm(c, oidc.PathLogin, form)
	}
	for i := range 5 {
		if p := try(userEmail, "wrong"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, p.status)
		}
	}
	p := try(userEmail, userPassword)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many failed sign-in attempts") {
		t.Fatalf("the right password after 5 failures: %d; want 429 and the throttle message", p.status)
	}
	if p := try(otherEmail, userPassword); p.status == http.StatusTooManyRequests {
		t.Errorf("another account was throttled")
	}
	e.clock.Advance(15 * time.Minute)
	c2 := e.browser()
	form = formFields(t, e.get(c2, oidc.PathAuthorize, authParams()))
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	if p := e.postForm(c2, oidc.PathLogin, form); p.status == http.StatusTooManyRequests || p.status == http.StatusUnauthorized {
		t.Errorf("after the window: %d; want the login to proceed", p.status)
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
