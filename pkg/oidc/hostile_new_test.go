package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestHostileNewEndpoints: malformed, oversized and contradictory input to
// the endpoints added beside the hostile suite's (connectors, device flow,
// registration, token exchange, DPoP, client assertions, WebFinger) is
// answered with a 4xx, never a 5xx.
func TestHostileNewEndpoints(t *testing.T) {
	e, _ := upstreamEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}), func(c *oidc.Config) {
		c.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantDeviceCode, oidc.GrantTokenExchange}
		c.WebFingerDomains = []string{"example.com"}
	})
	huge := strings.Repeat("A", 40<<10)
	nul := "a\x00b"
	type call struct {
		name, method, path, body, contentType string
		header                                map[string]string
	}
	form := "application/x-www-form-urlencoded"
	calls := []call{
		{"callback, huge code", "GET", oidc.PathCallback + "?state=" + strings.Repeat("s", 43) + "&code=" + huge, "", "", nil},
		{"callback, NUL state", "GET", oidc.PathCallback + "?state=" + url.QueryEscape(nul), "", "", nil},
		{"callback, error only", "GET", oidc.PathCallback + "/corp?error=access_denied", "", "", nil},
		{"callback, deep path", "GET", oidc.PathCallback + "/corp/../../x", "", "", nil},
		{"login link, unknown handle", "GET", oidc.PathLogin + "?req=" + huge + "&connector=corp", "", "", nil},
		{"device code, no client", "POST", oidc.PathDeviceCode, "scope=openid", form, nil},
		{"device code, huge scope", "POST", oidc.PathDeviceCode, "client_id=" + publicID + "&scope=" + huge, form, nil},
		{"device page, huge code", "POST", oidc.PathDevice, "user_code=" + huge, form, nil},
		{"device page, NUL code", "GET", oidc.PathDevice + "?user_code=" + url.QueryEscape(nul), "", "", nil},
		{"device poll, huge code", "POST", oidc.PathToken, "grant_type=" + url.QueryEscape(oidc.GrantDeviceCode) + "&client_id=" + publicID + "&device_code=" + huge, form, nil},
		{"register, not JSON", "POST", oidc.PathRegister, "{", "application/json", nil},
		{"register, array", "POST", oidc.PathRegister, "[]", "application/json", nil},
		{"register, wrong types", "POST", oidc.PathRegister, `{"redirect_uris":"x","grant_types":7}`, "application/json", nil},
		{"register, huge", "POST", oidc.PathRegister, `{"client_name":"` + huge + `"}`, "application/json", nil},
		{"register, form body", "POST", oidc.PathRegister, "redirect_uris=x", form, nil},
		{"client config, huge id", "GET", oidc.PathRegister + "/" + huge, "", "", map[string]string{"Authorization": "Bearer x"}},
		{"client config, PUT garbage", "PUT", oidc.PathRegister + "/abc", "{{", "application/json", map[string]string{"Authorization": "Bearer x"}},
		{"token exchange, garbage subject", "POST", oidc.PathToken, "grant_type=" + url.QueryEscape(oidc.GrantTokenExchange) + "&subject_token=" + huge + "&subject_token_type=" + url.QueryEscape(oidc.TokenTypeAccessToken) + "&client_id=" + publicID, form, nil},
		{"token exchange, unknown connector", "POST", oidc.PathToken, "grant_type=" + url.QueryEscape(oidc.GrantTokenExchange) + "&subject_token=x&subject_token_type=x&connector_id=" + url.QueryEscape(nul) + "&client_id=" + publicID, form, nil},
		{"DPoP, garbage proof", "POST", oidc.PathToken, "grant_type=refresh_token&refresh_token=x&client_id=" + publicID, form, map[string]string{"DPoP": "a.b.c"}},
		{"DPoP, huge proof", "POST", oidc.PathToken, "grant_type=refresh_token&refresh_token=x&client_id=" + publicID, form, map[string]string{"DPoP": huge[:8000]}},
		{"client assertion, garbage", "POST", oidc.PathToken, "grant_type=refresh_token&refresh_token=x&client_assertion_type=" + url.QueryEscape("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") + "&client_assertion=a.b.c", form, nil},
		{"client assertion, huge", "POST", oidc.PathToken, "grant_type=refresh_token&refresh_token=x&client_assertion_type=" + url.QueryEscape("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") + "&client_assertion=" + huge, form, nil},
		{"userinfo, DPoP scheme garbage", "GET", oidc.PathUserInfo, "", "", map[string]string{"Authorization": "DPoP a.b.c", "DPoP": "x"}},
		{"webfinger, huge", "GET", oidc.PathWebFinger + "?resource=acct:" + huge + "@example.com", "", "", nil},
		{"authorize, resource garbage", "GET", oidc.PathAuthorize + "?" + url.Values{"client_id": {confidentialID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"}, "resource": {nul}}.Encode(), "", "", nil},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, e.issuer+c.path, strings.NewReader(c.body))
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			p := e.do(e.browser(), req)
			if p.status >= 500 {
				t.Errorf("%s %s: %d; want a 4xx:\n%.300s", c.method, c.name, p.status, p.body)
			}
			if strings.Contains(p.body, "goroutine") || strings.Contains(p.body, "runtime error") {
				t.Errorf("%s: the answer shows an internal error: %.300s", c.name, p.body)
			}
		})
	}
}
