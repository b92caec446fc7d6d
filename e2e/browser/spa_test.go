package browser

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSPAPublicClient signs in from a single-page app on its own origin, a
// public client whose origin is allowed only through the client's
// allowedOrigins (web.allowedOrigins is empty), in a real browser:
// discovery, JWKS, token and userinfo are cross-origin fetches (userinfo
// with a preflight for its Authorization header), the code is bound to a
// PKCE S256 verifier made with Web Crypto, and the callback checks state and
// iss (RFC 9207) and verifies the ID token's signature with the published
// keys. Then pages on two other origins try to read the token and userinfo
// answers for that client, with a real unused code and a real access token:
// an origin that another client allows, and an origin that no client
// allows. Chromium must block both with a CORS error.
func TestSPAPublicClient(t *testing.T) {
	start := time.Now()
	b := newBrowser(t) // first: a missing chromium fails before anything else
	spa, neighbour, stranger := reserveSite(t), reserveSite(t), reserveSite(t)
	p := startProvider(t,
		client{ID: "spa", Name: "Test SPA", RedirectURIs: []string{spa.callbackURI()}, AllowedOrigins: []string{spa.Origin}},
		client{ID: "other-spa", Name: "Other SPA", RedirectURIs: []string{neighbour.callbackURI()}, AllowedOrigins: []string{neighbour.Origin}},
	)
	spa.serveSPA(t, p.Issuer, "spa")
	neighbour.serveSPA(t, p.Issuer, "other-spa")
	stranger.serveSPA(t, p.Issuer, "")
	t.Logf("origins: spa %s, neighbour (allowed for other-spa) %s, stranger (allowed for none) %s", spa.Origin, neighbour.Origin, stranger.Origin)

	// 1. The whole login, as a user does it.
	b.openSPA(spa, "")
	b.clickSignIn()
	b.expectLoginPage(p)
	b.screenshot("login.png")
	b.login(userEmail, userPassword)
	b.approve()
	res := b.callbackResult(spa)
	if res.State != "done" {
		t.Fatalf("SPA callback: state %q, error %q; want done", res.State, res.Error)
	}
	if res.Email != userEmail {
		t.Fatalf("SPA shows email %q; want %q", res.Email, userEmail)
	}
	accessToken := run(b, "read the access token", chromedp.Evaluate[string](`window.spaResult.access_token`))
	t.Logf("signed in from %s as %s", spa.Origin, res.Email)

	// 2. A second login that stops at the code, so that another origin can
	// try to redeem it: a real, unused code with its verifier. It runs in a
	// browser context of its own, so the first login's single sign-on
	// session does not apply. The provider asks for the approval again:
	// the client's redirect URI is a loopback one (RFC 8252 §8.6).
	b2 := b.newContext()
	b2.openSPA(spa, "?hold=1")
	b2.clickSignIn()
	b2.expectLoginPage(p)
	b2.login(userEmail, userPassword)
	b2.approveIfAsked()
	held := b2.callbackResult(spa)
	if held.State != "held" || held.Held.Code == "" {
		t.Fatalf("SPA callback with ?hold=1: state %q, error %q, held %+v; want a held code", held.State, held.Error, held.Held)
	}

	discovery := probeRequest{Name: "discovery", URL: p.Issuer + "/.well-known/openid-configuration"}
	token := probeRequest{Name: "token", URL: p.Issuer + "/token", Method: "POST",
		Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		Body: url.Values{
			"grant_type": {"authorization_code"}, "code": {held.Held.Code}, "redirect_uri": {spa.callbackURI()},
			"client_id": {"spa"}, "code_verifier": {held.Held.Verifier},
		}.Encode()}
	userinfo := probeRequest{Name: "userinfo", URL: p.Issuer + "/userinfo",
		Headers: map[string]string{"Authorization": "Bearer " + accessToken}}

	// 3. The neighbour's origin is allowed for other-spa, so discovery
	// answers it (and the userinfo preflight passes); the token and userinfo
	// answers for spa must not be readable there.
	got := b.probe(neighbour, discovery, token, userinfo)
	if r := got["discovery"]; !r.Read || r.Status != 200 {
		t.Errorf("discovery from %s (allowed for other-spa): %+v; want readable, status 200", neighbour.Origin, r)
	}
	expectCORSBlocked(t, b, got["token"])
	expectCORSBlocked(t, b, got["userinfo"])

	// 4. The stranger's origin is allowed for no client: nothing is
	// readable. (The code was used in 3, so the token endpoint refuses it
	// now; what matters is that the page cannot read even that.)
	got = b.probe(stranger, discovery, token, userinfo)
	for _, name := range []string{"discovery", "token", "userinfo"} {
		expectCORSBlocked(t, b, got[name])
	}

	// The provider's pages load nothing that their Content-Security-Policy
	// forbids: a violation would show on the console.
	for _, l := range b.consoleLines() {
		if strings.Contains(l, "Content Security Policy") {
			t.Errorf("CSP violation: %s", l)
		}
	}
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}

// expectCORSBlocked checks that the page could not read the response and
// that chromium reported a CORS block of that URL from that origin on the
// console (a CORS failure and a network failure look the same to the page).
func expectCORSBlocked(t *testing.T, b *browser, r probeResult) {
	t.Helper()
	switch {
	case r.Name == "":
		t.Errorf("a probe result is missing")
		return
	case r.Read:
		t.Errorf("%s from %s: the page read the response (status %d, body %.200s); want a CORS error", r.Name, r.Origin, r.Status, r.Body)
		return
	case !strings.Contains(r.Error, "Failed to fetch"):
		t.Errorf("%s from %s: fetch error %q; want TypeError: Failed to fetch", r.Name, r.Origin, r.Error)
	}
	re := regexp.MustCompile(`Access to fetch at '` + regexp.QuoteMeta(r.URL) + `' from origin '` + regexp.QuoteMeta(r.Origin) + `' has been blocked by CORS policy`)
	if line, ok := b.waitConsole(re); ok {
		t.Logf("%s from %s blocked: %s", r.Name, r.Origin, line)
	} else {
		t.Errorf("%s from %s: chromium reported no CORS block; console:\n%s", r.Name, r.Origin, strings.Join(b.consoleLines(), "\n"))
	}
}
