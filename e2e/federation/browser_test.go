package federation

// Real components: headless chromium (Debian's package, chromedp); the
// downstream provider built by internal/app from a YAML config with two
// oidc connectors; as upstreams, this provider in process (pkg/oidc,
// memory store, local key) and npm's oidc-provider run with Node; a Go
// relying party (golang.org/x/oauth2 with PKCE, go-oidc).

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFederation signs in through each upstream in turn, in a
// browser that has no session anywhere: the downstream's login page
// offers both connectors and the password form; the upstream's login (and
// consent) pages; back through the downstream's /callback and consent
// page to the RP, which verifies the ID token. Then the RP refreshes,
// which refreshes at the upstream too: the groups changed there show.
func TestBrowserFederation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	root := newBrowser(t)
	for _, tc := range []struct {
		name, connector string
		loginUpstream   func(*browser)
		want            wantUser
		// setGroups changes the user's groups upstream.
		setGroups func(*testing.T, []string)
	}{
		{"this provider", thisConnectorName, w.loginAtThisOP, w.wantThis(), func(t *testing.T, g []string) {
			u := w.thisUser
			u.Groups = g
			w.this.putUser(t, u)
		}},
		{"oidc-provider", nodeConnectorName, w.loginAtNodeOP, w.wantNode(), func(t *testing.T, g []string) {
			a := w.nodeAccount
			a.Groups = g
			w.node.setAccounts(t, map[string]nodeAccount{w.nodeLogin: a})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := root.newContext(t)
			b.navigate("open the RP's login", w.rp.loginURL())
			b.waitFor("the downstream's login page", cond{w.downstream + "/", "a.connector"})
			links := eval[[]string](b, "read the connector links",
				`[...document.querySelectorAll("a.connector")].map(a => a.textContent.trim())`)
			if want := []string{"Sign in with " + thisConnectorName, "Sign in with " + nodeConnectorName}; !slices.Equal(links, want) {
				b.fail("check the connector choice", fmt.Errorf("links %q; want %q", links, want))
			}
			if !eval[bool](b, "look for the password form", `!!document.querySelector("input[type=password]")`) {
				b.fail("check the password form", fmt.Errorf("enablePasswordDB is on, yet the login page has no password field"))
			}
			b.do("click Sign in with "+tc.connector, chromedp.Click(chromedp.JSPath(
				`[...document.querySelectorAll("a.connector")].find(a => a.textContent.trim() === `+jsString("Sign in with "+tc.connector)+`)`)))
			tc.loginUpstream(b)
			// Back at the downstream through /callback: its consent page.
			b.waitFor("the downstream's consent page", cond{w.downstream + "/", "button[name=approve]"})
			b.do("approve at the downstream", chromedp.Click(chromedp.CSS("button[name=approve]")))
			b.waitFor("the RP's callback page", cond{w.rp.origin + "/callback", "#done, #error"})
			res := w.rp.result(t)
			if res.Err != nil {
				t.Fatalf("RP: %v", res.Err)
			}
			checkClaims(t, "login", res.Claims, tc.want)

			// The RP's refresh reaches the upstream: the groups it has now.
			tc.want.groups = []string{"refreshed-" + tc.want.connector}
			tc.setGroups(t, tc.want.groups)
			_, claims, err := w.rp.refresh(t.Context(), res.Token.RefreshToken)
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			checkClaims(t, "refresh", claims, tc.want)
		})
	}
}

// loginAtThisOP fills the upstream's login form (this provider's), and
// approves on its consent page: the connector asks for offline_access
// with prompt=consent, as Dex does.
func (w *world) loginAtThisOP(b *browser) {
	b.t.Helper()
	b.waitFor("the upstream's login page", cond{w.this.Issuer + "/", "#login"})
	b.do("log in at the upstream",
		chromedp.SendKeys(chromedp.ID("login"), w.thisUser.Email),
		chromedp.SendKeys(chromedp.ID("password"), w.thisUser.Password),
		chromedp.Click(chromedp.CSS("form button[type=submit]")))
	b.waitFor("the upstream's consent page", cond{w.this.Issuer + "/", "button[name=approve]"})
	b.do("approve at the upstream", chromedp.Click(chromedp.CSS("button[name=approve]")))
}

// loginAtNodeOP fills oidc-provider's devInteractions login form (any
// login is the account of that id) and continues on its consent page.
func (w *world) loginAtNodeOP(b *browser) {
	b.t.Helper()
	b.waitFor("oidc-provider's login page", cond{w.node.Issuer + "/interaction/", "input[name=login]"})
	b.do("log in at oidc-provider",
		chromedp.SendKeys(chromedp.CSS("input[name=login]"), w.nodeLogin),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), "any password"),
		chromedp.Click(chromedp.CSS("button[type=submit]")))
	b.waitFor("oidc-provider's consent page", cond{w.node.Issuer + "/interaction/", `input[name=prompt][value=consent]`})
	b.do("continue at oidc-provider", chromedp.Click(chromedp.CSS("button[type=submit]")))
}

// newContext opens a tab in a new browser context of the same chromium:
// its own cookies, as a browser that never signed in anywhere.
func (b *browser) newContext(t *testing.T) *browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("open a tab in a new browser context: %v", err)
		}
	case <-time.After(startTimeout):
		cancel()
		t.Fatalf("open a tab in a new browser context: not done within %v", startTimeout)
	}
	return &browser{t: t, ctx: ctx, output: b.output}
}

// navigate loads u.
func (b *browser) navigate(step, u string) {
	b.t.Helper()
	b.do(step, chromedp.Navigate(u))
}

// cond is a page: its address starts with prefix and it has an element
// matching selector.
type cond struct{ prefix, selector string }

// waitFor waits, within stepTimeout, until the tab shows the page c
// describes. It polls from Go, so that a navigation under way (which
// ends a page's script) is waited out rather than failing the step.
func (b *browser) waitFor(step string, c cond) {
	b.t.Helper()
	expr := fmt.Sprintf(`location.href.startsWith(%s) && document.readyState !== "loading" && !!document.querySelector(%s)`,
		jsString(c.prefix), jsString(c.selector))
	deadline := time.Now().Add(stepTimeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	if last == nil {
		last = fmt.Errorf("no %s at %s…", c.selector, c.prefix)
	}
	b.fail("wait for "+step, fmt.Errorf("%w within %v", last, stepTimeout))
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
