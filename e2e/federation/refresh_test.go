package federation

// Real components: as upstreams, npm's oidc-provider (Node,
// tools/node_modules) and this provider in process (pkg/oidc, memory
// store, local key); the downstream provider built by internal/app from a
// YAML config with its oidc connectors; a Go relying party
// (golang.org/x/oauth2 with PKCE, go-oidc); an http.Client with a cookie
// jar in place of the browser. Nothing is faked: oidc-provider's accounts
// are the JSON file its findAccount reads, this provider's its store.

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestUpstreamRefresh: the downstream's refresh asks the upstream again
// (Dex's upstream refresh): a change of the user's groups upstream shows
// in the next refreshed ID token, and a user removed upstream ends the
// downstream grant with invalid_grant (RFC 6749 §5.2), for good.
func TestUpstreamRefresh(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tc := range []struct {
		name      string
		login     func(*testing.T, *webClient) rpResult
		want      wantUser
		setGroups func(*testing.T, []string)
		remove    func(*testing.T)
	}{
		{"oidc-provider", w.httpLoginNode, w.wantNode(),
			func(t *testing.T, g []string) {
				a := w.nodeAccount
				a.Groups = g
				w.node.setAccounts(t, map[string]nodeAccount{w.nodeLogin: a})
			},
			func(t *testing.T) { w.node.setAccounts(t, map[string]nodeAccount{}) }},
		{"this provider", w.httpLoginThis, w.wantThis(),
			func(t *testing.T, g []string) {
				u := w.thisUser
				u.Groups = g
				w.this.putUser(t, u)
			},
			func(t *testing.T) { w.this.deleteUser(t, w.thisUser) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.login(t, newWebClient(t))
			if res.Err != nil {
				t.Fatalf("login: %v", res.Err)
			}
			checkClaims(t, "login", res.Claims, tc.want)
			rt := res.Token.RefreshToken
			if rt == "" {
				t.Fatal("the downstream issued no refresh token for offline_access")
			}

			tc.want.groups = []string{"groups-changed-upstream"}
			tc.setGroups(t, tc.want.groups)
			tok, claims, err := w.rp.refresh(t.Context(), rt)
			if err != nil {
				t.Fatalf("refresh after the groups changed upstream: %v", err)
			}
			checkClaims(t, "refresh after the groups changed upstream", claims, tc.want)
			if tok.RefreshToken != "" {
				rt = tok.RefreshToken // rotated
			}

			tc.remove(t)
			for _, attempt := range []string{"refresh after the user was removed upstream", "the same refresh again"} {
				_, _, err = w.rp.refresh(t.Context(), rt)
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
					t.Fatalf("%s: %v; want invalid_grant", attempt, err)
				}
			}
		})
	}
}

// TestUpstreamAway: while the upstream does not answer (503), the
// downstream's refresh fails with a server error, not invalid_grant, and
// keeps the grant: the same refresh token works once the upstream is back
// (RFC 9700 §4.14.2: a refresh token is invalidated by use or revocation,
// not by the authorization server's own failure).
func TestUpstreamAway(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.httpLoginThis(t, newWebClient(t))
	if res.Err != nil {
		t.Fatalf("login: %v", res.Err)
	}
	w.this.down.Store(true)
	_, _, err := w.rp.refresh(t.Context(), res.Token.RefreshToken)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode == "invalid_grant" || re.Response == nil || re.Response.StatusCode < 500 {
		t.Fatalf("refresh while the upstream is away: %v; want a server error (5xx), the grant kept", err)
	}
	w.this.down.Store(false)
	_, claims, err := w.rp.refresh(t.Context(), res.Token.RefreshToken)
	if err != nil {
		t.Fatalf("refresh once the upstream is back, with the same refresh token: %v", err)
	}
	checkClaims(t, "refresh once the upstream is back", claims, w.wantThis())
}

// TestUpstreamDenied: the user cancels at oidc-provider (its
// devInteractions' Cancel link: access_denied, "End-User aborted
// interaction"); the downstream sends the RP access_denied (RFC 6749
// §4.1.2.1) with its iss (RFC 9207).
func TestUpstreamDenied(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	wc := newWebClient(t)
	p := wc.get("start at the RP", w.rp.loginURL())
	p = wc.get("follow Sign in with "+nodeConnectorName, p.connectorLink(t, nodeConnectorName))
	cancel := p.link(t, "[ Cancel ]")
	if status := wc.getStatus("cancel at oidc-provider", cancel); status != http.StatusBadRequest {
		t.Errorf("the RP's callback page answered %d; want its error page (400)", status)
	}
	res := w.rp.result(t)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "authorization error access_denied") {
		t.Fatalf("RP: %v; want the authorization error access_denied", res.Err)
	}
}

// httpLoginNode signs in at the RP through the downstream's connector to
// oidc-provider: the downstream's login page, oidc-provider's login and
// consent pages (devInteractions), the downstream's consent page, the RP.
func (w *world) httpLoginNode(t *testing.T, wc *webClient) rpResult {
	t.Helper()
	p := w.httpConnectorChoice(t, wc, nodeConnectorName)
	if !strings.HasPrefix(p.url.String(), w.node.Issuer+"/interaction/") || !p.has(`name="login"`) {
		t.Fatalf("want oidc-provider's login page; got %s:\n%s", p.url.Redacted(), p.text())
	}
	p = wc.submit("log in at oidc-provider", p, url.Values{"login": {w.nodeLogin}, "password": {"any password"}})
	if !p.has(`name="prompt" value="consent"`) {
		t.Fatalf("want oidc-provider's consent page; got %s:\n%s", p.url.Redacted(), p.text())
	}
	p = wc.submit("consent at oidc-provider", p, nil)
	return w.httpApprove(t, wc, p)
}

// httpLoginThis signs in at the RP through the downstream's connector to
// this provider: its login and consent pages, then the downstream's.
func (w *world) httpLoginThis(t *testing.T, wc *webClient) rpResult {
	t.Helper()
	p := w.httpConnectorChoice(t, wc, thisConnectorName)
	if !strings.HasPrefix(p.url.String(), w.this.Issuer+"/") || !p.has(`name="password"`) {
		t.Fatalf("want the upstream's login page; got %s:\n%s", p.url.Redacted(), p.text())
	}
	p = wc.submit("log in at the upstream", p, url.Values{"login": {w.thisUser.Email}, "password": {w.thisUser.Password}})
	if !strings.HasPrefix(p.url.String(), w.this.Issuer+"/") || !p.has(`name="approve"`) {
		t.Fatalf("want the upstream's consent page; got %s:\n%s", p.url.Redacted(), p.text())
	}
	p = wc.submit("approve at the upstream", p, url.Values{"approve": {"1"}})
	return w.httpApprove(t, wc, p)
}

// httpConnectorChoice starts a login at the RP and follows the downstream
// login page's link to the connector named name.
func (w *world) httpConnectorChoice(t *testing.T, wc *webClient, name string) webPage {
	t.Helper()
	p := wc.get("start at the RP", w.rp.loginURL())
	if !strings.HasPrefix(p.url.String(), w.downstream+"/") {
		t.Fatalf("the RP's login went to %s; want the downstream's login page", p.url.Redacted())
	}
	return wc.get("follow Sign in with "+name, p.connectorLink(t, name))
}

// httpApprove approves on the downstream's consent page p (the browser
// came back through /callback) and returns what the RP got.
func (w *world) httpApprove(t *testing.T, wc *webClient, p webPage) rpResult {
	t.Helper()
	if !strings.HasPrefix(p.url.String(), w.downstream+"/") || !p.has(`name="approve"`) {
		t.Fatalf("want the downstream's consent page; got %s:\n%s", p.url.Redacted(), p.text())
	}
	wc.submit("approve at the downstream", p, url.Values{"approve": {"1"}})
	return w.rp.result(t)
}
