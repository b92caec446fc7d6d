package browser

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The steps of a browser login, each usable on its own: a later test can
// open a second SPA in the same browser and expect no login page (single
// sign-on), or start at the provider's login page directly.

// openSPA loads the SPA's start page; query ("?hold=1") is passed on.
func (b *browser) openSPA(s *site, query string) {
	b.t.Helper()
	b.do("open the SPA at "+s.Origin, chromedp.Navigate(s.Origin+"/"+query), chromedp.WaitVisible(chromedp.ID("signin")))
}

// clickSignIn presses the SPA's Sign in button, which reads the discovery
// document (CORS) and navigates to the authorization endpoint, and waits
// for the next page: the provider's login page, its approval page (single
// sign-on for a client not yet approved) or, when the provider shows no
// page (prompt=none, single sign-on), the SPA's callback.
func (b *browser) clickSignIn() {
	b.t.Helper()
	b.do("click Sign in", chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitReady(chromedp.CSS(`#login, button[name=approve], #held, body[data-state=error]`)))
}

// frameResult presses Sign in on an SPA opened with ?frame=1, which sends
// the authorization request from a hidden iframe, and reads the result the
// iframe's callback reported to the page.
func (b *browser) frameResult(s *site) appResult {
	b.t.Helper()
	b.expectPage("the SPA", s.Origin+"/?")
	b.do("click Sign in (hidden iframe)", chromedp.Click(chromedp.ID("signin")))
	return b.pageResult(s.Origin + "/?")
}

// secFetchSite fetches /sec-fetch-site of the SPA on s from the page the
// tab shows and returns the Sec-Fetch-Site header chromium sent with it:
// same-origin, same-site or cross-site from that page.
func (b *browser) secFetchSite(s *site) string {
	b.t.Helper()
	return run(b, "fetch "+s.Origin+"/sec-fetch-site", chromedp.Evaluate[string](
		`fetch(`+jsString(s.Origin+"/sec-fetch-site")+`, {cache: "no-store"}).then(r => r.text())`, chromedp.EvalAwaitPromise))
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// expectLoginPage checks that the tab shows p's login page.
func (b *browser) expectLoginPage(p *provider) {
	b.t.Helper()
	b.expectPage("the login page", p.Issuer+"/authorize?")
}

// login fills the provider's login form and submits it, then waits for the
// next page: consent, an error, or the SPA's callback.
func (b *browser) login(email, password string) {
	b.t.Helper()
	b.do("submit the login form",
		chromedp.SendKeys(chromedp.ID("login"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name=approve], p.error, body[data-state]`)),
	)
	if errText := run(b, "read the login result", chromedp.Evaluate[string](`(document.querySelector("p.error") || {}).textContent || ""`)); errText != "" {
		b.fail("login", errorString("the provider says: "+errText))
	}
}

// expectApprovalOnly checks that the tab shows p's approval page for the
// named client and no password field: single sign-on asks only for the
// approval of a client the user has not approved yet.
func (b *browser) expectApprovalOnly(p *provider, clientName string) {
	b.t.Helper()
	b.expectPage("the approval page", p.Issuer+"/")
	page := run(b, "read the approval page", chromedp.Evaluate[struct {
		Approve  bool   `json:"approve"`
		Password bool   `json:"password"`
		Text     string `json:"text"`
	}](`({approve: !!document.querySelector("button[name=approve]"),
		password: !!document.querySelector("input[type=password]"),
		text: document.body.innerText})`))
	switch {
	case page.Password:
		b.fail("expect the approval page only", errorString("the provider shows a password field"))
	case !page.Approve:
		b.fail("expect the approval page only", errorString("no Allow button"))
	case !strings.Contains(page.Text, clientName):
		b.fail("expect the approval page only", errorString("the page does not name the client "+clientName))
	}
}

// approve presses Allow on the provider's consent page and waits for the
// SPA's callback page.
func (b *browser) approve() {
	b.t.Helper()
	b.do("approve on the consent page",
		chromedp.WaitVisible(chromedp.CSS(`button[name=approve]`)),
		chromedp.Click(chromedp.CSS(`button[name=approve]`)),
		chromedp.WaitReady(chromedp.CSS(`#held, p.error`)),
	)
}

// approveIfAsked approves when the provider shows the consent page, and
// otherwise (consent remembered, or skipApprovalScreen) does nothing.
func (b *browser) approveIfAsked() {
	b.t.Helper()
	if run(b, "look for the consent page", chromedp.Evaluate[bool](`!!document.querySelector("button[name=approve]")`)) {
		b.approve()
	}
}

// appResult is what the SPA's callback page ended with.
type appResult struct {
	State      string // done, held or error
	Email      string
	Error      string
	OAuthError string   // the error code of an authorization error response
	Held       heldCode // with ?hold=1
}

type heldCode struct {
	Code     string `json:"code"`
	Verifier string `json:"verifier"`
}

// callbackResult waits for the SPA's callback page on s to finish and
// reads what it shows.
func (b *browser) callbackResult(s *site) appResult {
	b.t.Helper()
	return b.pageResult(s.callbackURI())
}

// pageResult waits for the SPA page at prefix to finish and reads what it
// shows.
func (b *browser) pageResult(prefix string) appResult {
	b.t.Helper()
	b.expectPage("the SPA", prefix)
	state := run(b, "wait for the SPA to finish", chromedp.Poll[string](
		`["done", "held", "error"].includes(document.body.dataset.state) && document.body.dataset.state`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
	text := func(id string) string {
		return run(b, "read #"+id, chromedp.Evaluate[string](`(document.getElementById("`+id+`") || {}).textContent || ""`))
	}
	res := appResult{State: state, Email: text("email"), Error: text("error"),
		OAuthError: run(b, "read the OAuth error", chromedp.Evaluate[string](`document.body.dataset.oauthError || ""`))}
	if held := text("held"); held != "" {
		if err := json.Unmarshal([]byte(held), &res.Held); err != nil {
			b.fail("read the held code", err)
		}
	}
	return res
}

// clickSignOut presses the SPA's Sign out button, which sends the browser
// to the end_session_endpoint with the ID token as id_token_hint, and waits
// for the next page: the SPA's logged-out page or a page of the provider
// (a confirmation, an error).
func (b *browser) clickSignOut() {
	b.t.Helper()
	b.do("click Sign out", chromedp.Click(chromedp.ID("signout")),
		chromedp.WaitReady(chromedp.CSS(`#logged-out, main, body[data-state=error]`)))
}

// loggedOutResult waits for the SPA's logged-out page on s and reads the
// state it received; State is done when it matches the one the SPA sent.
func (b *browser) loggedOutResult(s *site) (result, state string) {
	b.t.Helper()
	res := b.pageResult(s.loggedOutURI())
	if res.State != "done" {
		return res.State + ": " + res.Error, ""
	}
	return res.State, run(b, "read #state", chromedp.Evaluate[string](`document.getElementById("state").textContent`))
}

// cookies returns the cookies the browser context holds for url.
func (b *browser) cookies(url string) []*network.Cookie {
	b.t.Helper()
	return run(b, "read the cookies for "+url, func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		return res.Cookies, err
	})
}

// expectPage checks that the tab shows a URL starting with prefix.
func (b *browser) expectPage(what, prefix string) {
	b.t.Helper()
	loc := run(b, "read the location", chromedp.Location())
	if !strings.HasPrefix(loc, prefix) {
		b.fail(what, errorString("the tab shows "+loc+"; want "+prefix+"…"))
	}
}

// probeRequest is one fetch the CORS probe page makes (testdata/spa/probe.js).
type probeRequest struct {
	Name    string            `json:"name"`
	URL     string            `json:"url"`
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// probeResult is the page's report: Read says whether the page could read
// the response (then Status and Body are what it read); when it could not,
// Error is the fetch error.
type probeResult struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Origin string `json:"origin"`
	Read   bool   `json:"read"`
	Status int    `json:"status"`
	Body   string `json:"body"`
	Error  string `json:"error"`
}

// probe opens the probe page on s and makes the requests from its origin.
func (b *browser) probe(s *site, reqs ...probeRequest) map[string]probeResult {
	b.t.Helper()
	b.do("open the probe page at "+s.Origin, chromedp.Navigate(s.Origin+"/probe.html"), chromedp.WaitReady(chromedp.ID("report")))
	arg, err := json.Marshal(reqs)
	if err != nil {
		b.t.Fatal(err)
	}
	results := run(b, "probe from "+s.Origin, chromedp.Evaluate[[]probeResult](`probe(`+string(arg)+`)`, chromedp.EvalAwaitPromise))
	out := map[string]probeResult{}
	for _, r := range results {
		out[r.Name] = r
	}
	return out
}

type errorString string

func (e errorString) Error() string { return string(e) }
