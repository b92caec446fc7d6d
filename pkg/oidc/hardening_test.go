package oidc_test

import (
	"net/http"
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
		if _, err := oidc.New(oidc.Config{
			Settings:     oidc.Settings{Issuer: issuer},
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
		}); err == nil {
			t.Errorf("http issuer %q accepted as loopback", issuer)
		}
	}
}

// TestNativeClientsNeverSilent: RFC 8252 §8.6. A public client redirecting
// out of band, to a private-use scheme or to a loopback address cannot be
// told from another app claiming it (any local process can listen on a
// port), so even a session with remembered consent shows the page.
func TestNativeClientsNeverSilent(t *testing.T) {
	e := clientsEnv(t)
	_, challenge := pkcePair()
	var c *http.Client
	for _, uri := range []string{"urn:ietf:wg:oauth:2.0:oob", "com.example.app:/callback", "http://127.0.0.1:51000/callback"} {
		c = e.browser()
		params := authParams()
		params.Set("client_id", nativeID)
		params.Set("redirect_uri", uri)
		params.Set("code_challenge", challenge)
		params.Set("code_challenge_method", "S256")
		p := e.completeLogin(c, e.get(c, oidc.PathAuthorize, params)) // first time: login and approval
		if p.status != http.StatusOK && p.status != http.StatusSeeOther {
			t.Fatalf("%s: first sign-in: %d", uri, p.status)
		}
		if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != "consent" {
			t.Errorf("%s with a session and remembered consent: %s; want the approval page", uri, got)
		}
		// After a password login too, the approval page is shown again.
		fresh := e.browser()
		form := formFields(t, e.get(fresh, oidc.PathAuthorize, params))
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		if got := outcome(t, e.postForm(fresh, oidc.PathLogin, form)); got != "consent" {
			t.Errorf("%s after a login with remembered consent: %s; want the approval page", uri, got)
		}
		params.Set("prompt", "none")
		p = e.get(c, oidc.PathAuthorize, params)
		if strings.Contains(p.body, `class="code"`) || !strings.Contains(p.body+p.header.Get("Location"), "consent_required") {
			t.Errorf("%s with prompt=none: %d %q; want consent_required, no code", uri, p.status, p.header.Get("Location"))
		}
	}
	// A confidential client proves itself at the token endpoint: its
	// loopback redirect still signs in silently.
	e.store.PutClient(oidc.Client{ID: "loopback-web", SecretHash: oidc.HashSecret("s"), RedirectURIs: []string{"http://127.0.0.1:51000/callback"}})
	params := authParams()
	params.Set("client_id", "loopback-web")
	params.Set("redirect_uri", "http://127.0.0.1:51000/callback")
	web := e.browser()
	if got := outcome(t, e.completeLogin(web, e.get(web, oidc.PathAuthorize, params))); got != "code" {
		t.Fatalf("confidential loopback client: first sign-in: %s", got)
	}
	params.Set("prompt", "none")
	if got := outcome(t, e.get(web, oidc.PathAuthorize, params)); got != "code" {
		t.Errorf("confidential client's loopback redirect with a session and consent: %s; want code", got)
	}
}

// TestHintedUserMustSignIn: OpenID Connect Core §3.1.2.1: a login as
// someone other than the id_token_hint's user answers login_required.
func TestHintedUserMustSignIn(t *testing.T) {
	e := sessionEnv(t)
	bobHint := e.signIn(e.browser(), confidentialID, otherEmail)
	c := e.browser()
	params := authParams()
	params.Set("id_token_hint", bobHint)
	form := formFields(t, e.get(c, oidc.PathAuthorize, params))
	form.Set("login", userEmail) // not bob
	form.Set("password", userPassword)
	if got := outcome(t, e.postForm(c, oidc.PathLogin, form)); got != oidc.ErrCodeLoginRequired {
		t.Errorf("login as another user: %s; want login_required", got)
	}
}

// TestUnverifiableApprovalNotRemembered: an approval given through a
// loopback request of a public client (which any local process can start,
// RFC 8252 §8.6) is not remembered, so it cannot make the same client's
// https redirect silent.
func TestUnverifiableApprovalNotRemembered(t *testing.T) {
	e := newEnv(t)
	e.store.PutClient(oidc.Client{ID: "dual", Public: true, RedirectURIs: []string{"http://127.0.0.1/callback", "https://app.example.com/callback"}})
	_, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", "dual")
	params.Set("redirect_uri", "http://127.0.0.1:41000/callback")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	c := e.browser()
	if got := outcome(t, e.completeLogin(c, e.get(c, oidc.PathAuthorize, params))); got != "code" {
		t.Fatalf("loopback sign-in with approval: %s; want code", got)
	}
	params.Set("redirect_uri", "https://app.example.com/callback")
	params.Set("prompt", "none")
	if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != "consent_required" {
		t.Errorf("https redirect after a loopback approval, prompt=none: %s; want consent_required", got)
	}
}
