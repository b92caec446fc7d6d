package oidc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestPagesSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	c := e.browser()
	p := e.get(c, oidc.PathAuthorize, authParams())
	assertPageHeaders(t, p)
	if !strings.Contains(p.header.Get("Content-Security-Policy"), "form-action 'self' http://127.0.0.1:5555") {
		t.Errorf("form-action must allow the redirect origin: %q", p.header.Get("Content-Security-Policy"))
	}
	if p.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the authorization endpoint must not send CORS headers")
	}
	var cookie *http.Cookie
	for _, ck := range (&http.Response{Header: p.header}).Cookies() {
		cookie = ck
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Domain != "" {
		t.Errorf("binding cookie = %+v; want HttpOnly, SameSite=Lax, no Domain", cookie)
	}
}
