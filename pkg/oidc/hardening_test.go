package oidc_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Cases found in review, each pinned by a test.

func TestFormPostNeedsHTTPRedirect(t *testing.T) {
	e := clientsEnv(t)
	_, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", nativeID)
	params.Set("redirect_uri", "com.example.app:/callback")
	params.Set("response_mode", "form_post")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	p := e.get(e.browser(), oidc.PathAuthorize, params)
	loc := p.header.Get("Location")
	if p.status != http.StatusFound || !strings.HasPrefix(loc, "com.example.app:/callback?error=invalid_request") {
		t.Errorf("form_post to a private-use scheme: %d %q; want invalid_request by redirect", p.status, loc)
	}
	if strings.Contains(p.body, "ZgotmplZ") {
		t.Errorf("a form whose action was sanitised away: the post would go back to the provider")
	}
}

func TestIPv6LoopbackFormAction(t *testing.T) {
	e := clientsEnv(t)
	_, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", nativeID)
	params.Set("redirect_uri", "http://[::1]:8080/cb")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	p := e.get(e.browser(), oidc.PathAuthorize, params)
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http:;") {
		t.Errorf("CSP %q; want form-action to allow http: (CSP cannot name an IPv6 literal)", csp)
	}
}

func TestPublicClientsAlwaysRotate(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) {
		c.RefreshTokens = oidc.RefreshPolicy{DisableRotation: true, ValidIfNotUsedFor: time.Hour}
	})
	rt := e.offlineTokens(publicID, "")["refresh_token"].(string)
	form := map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {publicID}}
	status, body, _ := e.token(form, "", "")
	if status != 200 || body["refresh_token"] == rt {
		t.Errorf("public client with disableRotation: %d, same token %v; want a rotated token", status, body["refresh_token"] == rt)
	}
}

func TestIssuerLoopbackIsAnAddress(t *testing.T) {
	e := newEnv(t)
	for _, issuer := range []string{"http://127.attacker.example.com", "http://127.0.0.1.nip.io:8080"} {
		if _, err := oidc.New(oidc.Config{Issuer: issuer, Clients: e.store, Users: e.store, AuthRequests: e.store, Codes: e.store,
			Refresh: e.store, Revocations: e.store, Sessions: e.store, Consents: e.store, Signer: testSigner}); err == nil {
			t.Errorf("http issuer %q accepted as loopback", issuer)
		}
	}
}

func TestDiscoveryImplicitGrant(t *testing.T) {
	e := clientsEnv(t)
	m := decodeJSON(t, e.get(http.DefaultClient, oidc.PathDiscovery, nil).body)
	if got := stringList(m["grant_types_supported"]); !slices.Contains(got, "implicit") {
		t.Errorf("grant_types_supported = %v; want implicit with token/id_token response types", got)
	}
}
