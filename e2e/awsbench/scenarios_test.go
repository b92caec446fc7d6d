package awsbench

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// run signs in one browser (remembered consent), takes its first tokens,
// warms jwks and userinfo, then runs the scenarios: all of them in kms
// mode; in data-key mode those that sign or verify (the others do not
// depend on the signer), asserting that a warm token request makes no KMS
// call.
func (d *deployment) run(b *testing.B) []result {
	sso := d.browser()
	resp, page, _, _ := d.do(b, sso, "POST", oidc.PathLogin, d.loginForm(b, sso), nil)
	consent := hidden(page)
	consent.Set("approve", "1")
	resp, _, _, _ = d.do(b, sso, "POST", oidc.PathConsent, consent, nil)
	resp, page, _, first := d.do(b, d.browser(), "POST", oidc.PathToken, url.Values{"grant_type": {"authorization_code"},
		"code": {code(b, resp, "consent")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, basic)
	tok := tokens(b, resp, page)
	refreshToken, _ := tok["refresh_token"].(string)
	accessToken, _ := tok["access_token"].(string)
	if refreshToken == "" || accessToken == "" {
		b.Fatalf("first exchange: %v", tok)
	}
	_, _, _, jwks := d.do(b, d.browser(), "GET", oidc.PathJWKS, nil, nil) // the cold JWKS
	userinfo := func(b *testing.B) (time.Duration, []call) {
		resp, body, dur, c := d.do(b, d.browser(), "GET", oidc.PathUserInfo, nil, http.Header{"Authorization": {"Bearer " + accessToken}})
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("userinfo: %d %s", resp.StatusCode, body)
		}
		return dur, c
	}
	_, cold := userinfo(b)
	fmt.Printf("%s mode, calls at cold starts: the deployment's first token: %s; JWKS: %s; userinfo: %s\n",
		d.mode, opsString(first), opsString(jwks), opsString(cold))

	dataKey := d.mode == iac.SigningModeDataKey
	noKMS := func(b *testing.B, what string, c []call) {
		if dataKey && countKMS(c) != 0 {
			b.Fatalf("%s, warm, data-key mode: AWS calls %s; want no KMS call", what, opsString(c))
		}
	}
	if !dataKey {
		d.unsignedScenarios(b, sso)
	}
	d.scenario(b, "jwks-warm", oidc.FunctionJWKS, func(b *testing.B) (time.Duration, []call) {
		resp, body, dur, c := d.do(b, d.browser(), "GET", oidc.PathJWKS, nil, nil)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("jwks: %d %s", resp.StatusCode, body)
		}
		return dur, c
	})
	d.scenario(b, "code-exchange", oidc.FunctionToken, func(b *testing.B) (time.Duration, []call) {
		resp, _, _, _ := d.do(b, sso, "GET", authorizeURL, nil, nil)
		resp, body, dur, c := d.do(b, d.browser(), "POST", oidc.PathToken, url.Values{"grant_type": {"authorization_code"},
			"code": {code(b, resp, "authorize with a session")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, basic)
		tokens(b, resp, body)
		noKMS(b, "code exchange", c)
		return dur, c
	})
	d.scenario(b, "refresh", oidc.FunctionToken, func(b *testing.B) (time.Duration, []call) {
		resp, body, dur, c := d.do(b, d.browser(), "POST", oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, basic)
		refreshToken, _ = tokens(b, resp, body)["refresh_token"].(string)
		noKMS(b, "refresh", c)
		return dur, c
	})
	d.scenario(b, "userinfo", oidc.FunctionUserInfo, userinfo)
	return d.results
}

// unsignedScenarios are the ones whose calls do not depend on the signer:
// discovery, the authorization endpoint with and without a session, and
// the login POST.
func (d *deployment) unsignedScenarios(b *testing.B, sso *http.Client) {
	d.scenario(b, "discovery", oidc.FunctionDiscovery, func(b *testing.B) (time.Duration, []call) {
		resp, body, dur, c := d.do(b, d.browser(), "GET", oidc.PathDiscovery, nil, nil)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("discovery: %d %s", resp.StatusCode, body)
		}
		return dur, c
	})
	d.scenario(b, "authorize-no-session", oidc.FunctionAuthorize, func(b *testing.B) (time.Duration, []call) {
		resp, body, dur, c := d.do(b, d.browser(), "GET", authorizeURL, nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="password"`) {
			b.Fatalf("authorize without a session: %d; want the login page", resp.StatusCode)
		}
		return dur, c
	})
	// A full login: bcrypt (cost 10) dominates. Consent is remembered, so it
	// redirects with a code.
	d.scenario(b, "login-post-bcrypt", oidc.FunctionAuthorize, func(b *testing.B) (time.Duration, []call) {
		c := d.browser()
		form := d.loginForm(b, c)
		resp, _, dur, calls := d.do(b, c, "POST", oidc.PathLogin, form, nil)
		code(b, resp, "login")
		return dur, calls
	})
	d.scenario(b, "authorize-session", oidc.FunctionAuthorize, func(b *testing.B) (time.Duration, []call) {
		resp, _, dur, c := d.do(b, sso, "GET", authorizeURL, nil, nil)
		code(b, resp, "authorize with a session")
		return dur, c
	})
}
