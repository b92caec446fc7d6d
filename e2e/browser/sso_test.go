package browser

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// sessionCookie is the provider's single sign-on cookie on http (on https
// it has the __Host- prefix).
const sessionCookie = "oidc_session"

// TestSingleSignOn signs in to one public client in a real browser and then
// to a second one, on another origin, without a password; then it signs
// out through the first and checks that both are signed out.
//
// Both SPAs are served as real SPAs are: on https origins of their own
// domains, https://spa-a.test:port and https://spa-b.test:port
// (reserveHTTPSSite), another site than the provider's
// http://127.0.0.1:port and than each other, so chromium applies the
// SameSite rules between them. They must not be loopback origins: a public
// client redirecting to a loopback address never signs in silently (RFC
// 8252 §8.6; TestLoopbackSPANeverSilent). The provider's session
// cookie is SameSite=Lax: sent on a top-level GET navigation from another
// site, not on a request from a frame another site embeds. So the SPAs sign
// in silently (prompt=none) by a top-level redirect, and a hidden iframe,
// tried once, gets login_required. (A provider page could not show in a
// frame anyway: they all send frame-ancestors 'none'.)
//
//  1. SPA A: login page, password, approval.
//  2. SPA B, prompt=none: consent_required, not login_required: the provider
//     knew the user (the cookie came along) but B is not approved yet.
//  3. SPA B, interactive: the approval page only, never a password field.
//  4. SPA B, prompt=none: signed in, and the provider showed no page.
//  5. SPA B, prompt=none from a hidden iframe: login_required.
//  6. SPA A signs out at the end_session_endpoint with id_token_hint, a
//     registered post_logout_redirect_uri and state: the browser lands on
//     A's logged-out page with the state, with no confirmation page.
//  7. The oidc_session cookie is gone, and prompt=none from A and from B
//     answers login_required.
func TestSingleSignOn(t *testing.T) {
	start := time.Now()
	b := newBrowser(t) // first: a missing chromium fails before anything else
	spaA, spaB := reserveHTTPSSite(t, "spa-a.test"), reserveHTTPSSite(t, "spa-b.test")
	p := startProvider(t,
		client{ID: "spa-a", Name: "SPA A", RedirectURIs: []string{spaA.callbackURI()},
			AllowedOrigins: []string{spaA.Origin}, PostLogoutRedirectURIs: []string{spaA.loggedOutURI()}},
		client{ID: "spa-b", Name: "SPA B", RedirectURIs: []string{spaB.callbackURI()},
			AllowedOrigins: []string{spaB.Origin}, PostLogoutRedirectURIs: []string{spaB.loggedOutURI()}},
	)
	spaA.serveSPA(t, p.Issuer, "spa-a")
	spaB.serveSPA(t, p.Issuer, "spa-b")
	t.Logf("origins: SPA A %s, SPA B %s (cross-site to the provider and to each other)", spaA.Origin, spaB.Origin)

	// 1. SPA A: the whole login. It leaves the session cookie. First, what
	// the test stands on: the page is a secure context (Web Crypto makes
	// the PKCE pair), and chromium counts SPA B as another site.
	b.openSPA(spaA, "")
	if !run(b, "read isSecureContext", chromedp.Evaluate[bool](`window.isSecureContext`)) {
		t.Fatalf("SPA A at %s is not a secure context", spaA.Origin)
	}
	if got := b.secFetchSite(spaB); got != "cross-site" {
		t.Fatalf("a fetch from SPA A (%s) to SPA B (%s) is %q for chromium; want cross-site", spaA.Origin, spaB.Origin, got)
	}
	b.clickSignIn()
	b.expectLoginPage(p)
	b.login(userEmail, userPassword)
	b.approve()
	expectSignedIn(t, "SPA A", b.callbackResult(spaA))
	c := findCookie(b.cookies(p.Issuer+"/"), sessionCookie)
	switch {
	case c == nil:
		t.Fatalf("after the login the browser holds no %s cookie for %s", sessionCookie, p.Issuer)
	case !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/":
		t.Errorf("%s cookie: HttpOnly %t, SameSite %q, Path %q; want HttpOnly, SameSite Lax, Path /", sessionCookie, c.HTTPOnly, c.SameSite, c.Path)
	}

	// 2. SPA B, silently, before the user approved it: the provider must
	// know the user (the cookie was sent) and ask for consent, not login.
	m := b.mark()
	b.openSPA(spaB, "?prompt=none")
	b.clickSignIn()
	if res := b.callbackResult(spaB); res.State != "error" || res.OAuthError != "consent_required" {
		t.Fatalf("SPA B, prompt=none, not yet approved: state %q, error %q (%s); want consent_required", res.State, res.OAuthError, res.Error)
	}
	b.expectNoProviderPage(p, m, "SPA B, prompt=none, not yet approved")

	// 3. SPA B, interactive: the approval page only. No password is typed:
	// the single sign-on session answers for the user.
	m = b.mark()
	b.openSPA(spaB, "")
	b.clickSignIn()
	b.expectApprovalOnly(p, "SPA B")
	b.approve()
	expectSignedIn(t, "SPA B (approval only)", b.callbackResult(spaB))
	if _, shown := b.providerTrip(p, m); len(shown) != 1 {
		t.Errorf("SPA B, interactive: the provider showed %d pages; want the approval page only:\n%s", len(shown), indent(strings.Join(shown, "\n")))
	}

	// 4. SPA B, silently, now approved: signed in through the provider
	// (a redirect from its authorization endpoint), which showed no page.
	m = b.mark()
	b.openSPA(spaB, "?prompt=none")
	b.clickSignIn()
	expectSignedIn(t, "SPA B (prompt=none)", b.callbackResult(spaB))
	b.expectNoProviderPage(p, m, "SPA B, prompt=none")

	// 5. The same from a hidden iframe: the cookie is SameSite=Lax and the
	// frame's request is cross-site, so the provider sees no session. This
	// is why the SPAs sign in silently by a top-level redirect.
	b.openSPA(spaB, "?prompt=none&frame=1")
	if res := b.frameResult(spaB); res.OAuthError != "login_required" {
		t.Errorf("SPA B, prompt=none from a hidden iframe: state %q, error %q (%s), email %q; want login_required (a SameSite=Lax cookie is not sent from a cross-site frame)",
			res.State, res.OAuthError, res.Error, res.Email)
	}

	// 6. SPA A signs out. The ID token ties the request to the session, so
	// the provider asks no confirmation and returns to A with the state.
	m = b.mark()
	b.openSPA(spaA, "")
	b.clickSignOut()
	result, state := b.loggedOutResult(spaA)
	if result != "done" || state == "" {
		t.Fatalf("SPA A's logged-out page: %s, state %q; want the state the SPA sent", result, state)
	}
	loc, err := url.Parse(run(b, "read the location", chromedp.Location()))
	if err != nil || loc.Query().Get("state") != state {
		t.Errorf("logged-out page at %s (%v); want the state %q in its query", loc, err, state)
	}
	requests, shown := b.providerTrip(p, m)
	all, _ := b.navigations(m)
	t.Logf("logout: %s", chain(all))
	if len(shown) != 0 {
		t.Errorf("logout: the provider showed a page; want a redirect to the logged-out page:\n%s", indent(strings.Join(shown, "\n")))
	}
	if q := logoutRequest(p, requests); q == nil {
		t.Errorf("no request to the end_session_endpoint %s; requests:\n%s", p.Issuer+oidc.PathLogout, indent(strings.Join(requests, "\n")))
	} else if q.Get("id_token_hint") == "" || q.Get("post_logout_redirect_uri") != spaA.loggedOutURI() || q.Get("state") != state || q.Get("client_id") != "spa-a" {
		t.Errorf("logout request: id_token_hint %t, post_logout_redirect_uri %q, state %q, client_id %q; want a hint, %q, %q, spa-a",
			q.Get("id_token_hint") != "", q.Get("post_logout_redirect_uri"), q.Get("state"), q.Get("client_id"), spaA.loggedOutURI(), state)
	}

	// 7. Both are signed out: the cookie is gone and silent sign-ins fail.
	if c := findCookie(b.cookies(p.Issuer+"/"), sessionCookie); c != nil {
		t.Errorf("after logout the browser still holds the %s cookie (expires %s)", sessionCookie, time.Unix(int64(c.Expires), 0).UTC())
	}
	for _, s := range []struct {
		name string
		site *site
	}{{"SPA A", spaA}, {"SPA B", spaB}} {
		m = b.mark()
		b.openSPA(s.site, "?prompt=none")
		b.clickSignIn()
		if res := b.callbackResult(s.site); res.State != "error" || res.OAuthError != "login_required" {
			t.Errorf("%s, prompt=none after logout: state %q, error %q (%s), email %q; want login_required", s.name, res.State, res.OAuthError, res.Error, res.Email)
		}
		b.expectNoProviderPage(p, m, s.name+", prompt=none after logout")
	}

	for _, l := range b.consoleLines() {
		if strings.Contains(l, "Content Security Policy") {
			t.Errorf("CSP violation: %s", l)
		}
	}
	t.Logf("single sign-on test took %s", time.Since(start).Round(time.Millisecond))
}

// TestLoopbackSPANeverSilent is the other side of TestSingleSignOn: a
// public client whose redirect URI is a loopback address
// (http://localhost:port, as a native app or a local dev server uses) is
// never signed in silently, even after the user approved it (RFC 8252
// §8.6): any process on the device can listen on a loopback port and bring
// its own PKCE pair, so the provider cannot tell that app from another.
// The single sign-on session still spares the password; the approval is
// asked every time, and prompt=none answers consent_required.
//
//  1. The whole login: login page, password, approval.
//  2. prompt=none: consent_required (not login_required: the provider knows
//     the user), and the provider showed no page.
//  3. Interactive: the approval page again, with no password field: the
//     remembered approval is not used.
//  4. prompt=none after the second approval: consent_required still.
func TestLoopbackSPANeverSilent(t *testing.T) {
	start := time.Now()
	b := newBrowser(t) // first: a missing chromium fails before anything else
	spa := reserveCrossSite(t)
	p := startProvider(t, client{ID: "loopback-spa", Name: "Loopback SPA",
		RedirectURIs: []string{spa.callbackURI()}, AllowedOrigins: []string{spa.Origin}})
	spa.serveSPA(t, p.Issuer, "loopback-spa")
	t.Logf("origin: %s (a loopback redirect URI; cross-site to the provider)", spa.Origin)

	// 1. The whole login, approval included.
	b.openSPA(spa, "")
	b.clickSignIn()
	b.expectLoginPage(p)
	b.login(userEmail, userPassword)
	b.approve()
	expectSignedIn(t, "loopback SPA", b.callbackResult(spa))
	if findCookie(b.cookies(p.Issuer+"/"), sessionCookie) == nil {
		t.Fatalf("after the login the browser holds no %s cookie for %s", sessionCookie, p.Issuer)
	}

	// 2, 3, 4: the approval is never remembered for this client.
	for i, when := range []string{"after the first approval", "after the second approval"} {
		m := b.mark()
		b.openSPA(spa, "?prompt=none")
		b.clickSignIn()
		if res := b.callbackResult(spa); res.State != "error" || res.OAuthError != "consent_required" {
			t.Fatalf("loopback SPA, prompt=none %s: state %q, error %q (%s), email %q; want consent_required (RFC 8252 §8.6: no silent code for a loopback redirect URI)",
				when, res.State, res.OAuthError, res.Error, res.Email)
		}
		b.expectNoProviderPage(p, m, "loopback SPA, prompt=none "+when)
		if i == 1 {
			break
		}

		m = b.mark()
		b.openSPA(spa, "")
		b.clickSignIn()
		b.expectApprovalOnly(p, "Loopback SPA")
		b.approve()
		expectSignedIn(t, "loopback SPA (approved again)", b.callbackResult(spa))
		if _, shown := b.providerTrip(p, m); len(shown) != 1 {
			t.Errorf("loopback SPA, interactive after approval: the provider showed %d pages; want the approval page only:\n%s", len(shown), indent(strings.Join(shown, "\n")))
		}
	}

	for _, l := range b.consoleLines() {
		if strings.Contains(l, "Content Security Policy") {
			t.Errorf("CSP violation: %s", l)
		}
	}
	t.Logf("loopback test took %s", time.Since(start).Round(time.Millisecond))
}

// expectSignedIn checks that the SPA's callback ended signed in as the user.
func expectSignedIn(t *testing.T, what string, res appResult) {
	t.Helper()
	if res.State != "done" || res.Email != userEmail {
		t.Fatalf("%s: state %q, email %q, error %q; want done, %q", what, res.State, res.Email, res.Error, userEmail)
	}
}

// providerTrip returns, since m, the document requests to the provider
// and the provider's documents the tab showed (committed).
func (b *browser) providerTrip(p *provider, m navMark) (requests, shown []string) {
	all, docs := b.navigations(m)
	for _, r := range all {
		if strings.Contains(r, " "+p.Issuer+"/") {
			requests = append(requests, r)
		}
	}
	for _, d := range docs {
		if strings.HasPrefix(d, p.Issuer+"/") {
			shown = append(shown, d)
		}
	}
	return requests, shown
}

// expectNoProviderPage checks that since m the tab went to the provider's
// authorization endpoint and came back by redirects only: a silent answer,
// with no page (login, approval or error) shown.
func (b *browser) expectNoProviderPage(p *provider, m navMark, what string) {
	b.t.Helper()
	requests, shown := b.providerTrip(p, m)
	all, _ := b.navigations(m)
	b.t.Logf("%s: %s", what, chain(all))
	if !slices.ContainsFunc(requests, func(r string) bool { return strings.Contains(r, " "+p.Issuer+oidc.PathAuthorize+"?") }) {
		b.t.Errorf("%s: no request to the authorization endpoint; requests:\n%s", what, indent(strings.Join(requests, "\n")))
	}
	if len(shown) != 0 {
		b.t.Errorf("%s: the provider showed a page; want only redirects:\n%s", what, indent(strings.Join(shown, "\n")))
	}
}

// chain shows document requests in one line, without their queries.
func chain(requests []string) string {
	short := make([]string, len(requests))
	for i, r := range requests {
		if before, _, found := strings.Cut(strings.TrimSpace(r), "?"); found {
			r = before + "?…"
		}
		short[i] = strings.TrimSpace(r)
	}
	return strings.Join(short, " → ")
}

// logoutRequest returns the query of the first GET of the
// end_session_endpoint among requests, or nil.
func logoutRequest(p *provider, requests []string) url.Values {
	for _, r := range requests {
		method, u, ok := strings.Cut(strings.TrimSpace(r), " ")
		if !ok || method != http.MethodGet || !strings.HasPrefix(u, p.Issuer+oidc.PathLogout+"?") {
			continue
		}
		if parsed, err := url.Parse(u); err == nil {
			return parsed.Query()
		}
	}
	return nil
}

// findCookie returns the cookie named name, or nil.
func findCookie(cookies []*network.Cookie, name string) *network.Cookie {
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}
