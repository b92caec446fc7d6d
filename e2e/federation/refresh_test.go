package federation

// Real components: npm's oidc-provider (Node, tools/node_modules) as the
// upstream; the downstream provider built by internal/app from a YAML
// config with its oidc connector; a Go relying party (golang.org/x/oauth2
// with PKCE, go-oidc); an http.Client with a cookie jar in place of the
// browser. Nothing is faked: the upstream's account store is the JSON
// file its findAccount reads.

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestUpstreamRefreshThroughNodeOP: the downstream's refresh asks
// oidc-provider again (Dex's upstream refresh): a change of the user's
// groups upstream shows in the next refreshed ID token, and a user
// removed upstream ends the downstream grant with invalid_grant.
func TestUpstreamRefreshThroughNodeOP(t *testing.T) {
	w := newWorld(t)
	res := w.httpLoginNode(t, newWebClient(t))
	if res.Err != nil {
		t.Fatalf("login: %v", res.Err)
	}
	want := w.wantNode()
	checkClaims(t, "login", res.Claims, want)
	rt := res.Token.RefreshToken
	if rt == "" {
		t.Fatal("the downstream issued no refresh token for offline_access")
	}

	w.nodeAccount.Groups = []string{"navy", "cobol"}
	w.node.setAccounts(t, map[string]nodeAccount{w.nodeLogin: w.nodeAccount})
	tok, claims, err := w.rp.refresh(t.Context(), rt)
	if err != nil {
		t.Fatalf("refresh after the groups changed upstream: %v", err)
	}
	want.groups = w.nodeAccount.Groups
	checkClaims(t, "refresh after the groups changed upstream", claims, want)
	if tok.RefreshToken != "" {
		rt = tok.RefreshToken // rotated
	}

	w.node.setAccounts(t, map[string]nodeAccount{}) // the user is removed upstream
	_, _, err = w.rp.refresh(t.Context(), rt)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh after the user was removed upstream: %v; want invalid_grant", err)
	}
	// The grant is over, not only this attempt (the core revokes it).
	if _, _, err := w.rp.refresh(t.Context(), rt); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("second refresh after the user was removed upstream: %v; want invalid_grant", err)
	}
}

// httpLoginNode signs in at the RP through the downstream's connector to
// oidc-provider: the downstream's login page, oidc-provider's login and
// consent pages (devInteractions), the downstream's consent page, the RP.
func (w *world) httpLoginNode(t *testing.T, wc *webClient) rpResult {
	t.Helper()
	p := wc.get("start at the RP", w.rp.loginURL())
	if !strings.HasPrefix(p.url.String(), w.downstream+"/") {
		t.Fatalf("the RP's login went to %s; want the downstream's login page", p.url.Redacted())
	}
	p = wc.get("follow Sign in with "+nodeConnectorName, p.connectorLink(t, nodeConnectorName))
	if !strings.HasPrefix(p.url.String(), w.node.Issuer+"/interaction/") || !p.has(`name="login"`) {
		t.Fatalf("want oidc-provider's login page; got %s:\n%s", p.url.Redacted(), p.text())
	}
	p = wc.submit("log in at oidc-provider", p, url.Values{"login": {w.nodeLogin}, "password": {"any password"}})
	if !p.has(`name="prompt" value="consent"`) {
		t.Fatalf("want oidc-provider's consent page; got %s:\n%s", p.url.Redacted(), p.text())
	}
	p = wc.submit("consent at oidc-provider", p, nil)
	if !strings.HasPrefix(p.url.String(), w.downstream+"/") || !p.has(`name="approve"`) {
		t.Fatalf("want the downstream's consent page; got %s:\n%s", p.url.Redacted(), p.text())
	}
	wc.submit("approve at the downstream", p, url.Values{"approve": {"1"}})
	return w.rp.result(t)
}
