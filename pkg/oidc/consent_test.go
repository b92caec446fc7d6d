package oidc_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestConsentDenied(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	consent := formFields(t, e.postForm(c, oidc.PathLogin, form))
	consent.Set("deny", "1")
	p := e.postForm(c, oidc.PathConsent, consent)
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d; want 303", p.status)
	}
	q := mustParse(t, p.header.Get("Location")).Query()
	if q.Get("error") != oidc.ErrCodeAccessDenied || q.Get("state") != "xyz-state" || q.Has("code") {
		t.Errorf("redirect query = %v; want access_denied with state and no code", q)
	}
	// The decision is final: replaying the consent form fails.
	consent.Del("deny")
	consent.Set("approve", "1")
	if p := e.postForm(c, oidc.PathConsent, consent); p.status != http.StatusBadRequest {
		t.Errorf("replayed consent: status %d; want 400", p.status)
	}
}

func TestSkipApprovalScreen(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) { c.SkipApprovalScreen = true })
	c := e.browser()
	form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
	form.Set("login", "admin") // username works too
	form.Set("password", userPassword)
	p := e.postForm(c, oidc.PathLogin, form)
	if p.status != http.StatusSeeOther || !mustParse(t, p.header.Get("Location")).Query().Has("code") {
		t.Errorf("status %d, Location %q; want 303 with a code", p.status, p.header.Get("Location"))
	}
}

func TestConsentMemory(t *testing.T) {
	e := sessionEnv(t)
	c := e.browser()
	e.signIn(c, confidentialID, userEmail)
	params := authParams()
	if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != "code" {
		t.Errorf("approved scopes again: %s; want code", got)
	}
	params.Set("scope", "openid email offline_access")
	p := e.get(c, oidc.PathAuthorize, params)
	if got := outcome(t, p); got != "consent" {
		t.Fatalf("a new scope: %s; want consent", got)
	}
	// Denying returns access_denied, and nothing new is remembered.
	form := formFields(t, p)
	form.Set("deny", "1")
	if got := outcome(t, e.postForm(c, oidc.PathConsent, form)); got != oidc.ErrCodeAccessDenied {
		t.Errorf("deny: %s", got)
	}
	if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != "consent" {
		t.Errorf("after a denial: %s; want consent again", got)
	}
	// Remembered approvals expire.
	d := sessionEnv(t)
	c2 := d.browser()
	d.signIn(c2, confidentialID, userEmail)
	for range 20 {
		d.clock.Advance(5 * 24 * time.Hour)
		u, _ := d.store.User(t.Context(), userID)
		putUser(d.t, d.store, u)
	}
	c3 := d.browser()
	p = d.get(c3, oidc.PathAuthorize, authParams())
	form = formFields(t, p)
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	if got := outcome(t, d.postForm(c3, oidc.PathLogin, form)); got != "consent" {
		t.Errorf("after 100 days: %s; want consent", got)
	}
}
