package oidc_test

// The connector framework's answers to a security review: each grant's
// own copy of the connector's word, single use of upstream answers,
// subjects that cannot be taken over, removed connectors, mix-up and
// cross-site defences.

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// federatedGrant logs in through corp for client with scope and returns
// the token response.
func (e *env) federatedGrant(c *http.Client, client, secret, scope string) map[string]any {
	e.t.Helper()
	q := authParams()
	q.Set("client_id", client)
	q.Set("scope", scope)
	q.Set("prompt", "login")
	loc := mustParse(e.t, e.approve(c, e.callback(c, e.toUpstream(c, q), "good")).header.Get("Location"))
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirectURI}}, client, secret)
	if status != 200 {
		e.t.Fatalf("code exchange: %d %v", status, body)
	}
	return body
}

// TestUpstreamRefreshRetry: a retry within the reuse interval gets the
// same successor without asking the upstream again (which may have
// rotated what it was asked with); the next refresh presents the rotated
// data.
func TestUpstreamRefreshRetry(t *testing.T) {
	e, sc := upstreamEnv(t, func(c *oidc.Config) { c.SkipApprovalScreen = true })
	sc.logins["good"] = corpUser
	n := 0
	sc.refresh = func(id oidc.Identity) (oidc.Identity, error) {
		n++
		id.ConnectorData = []byte(fmt.Sprint("rotated-", n))
		return id, nil
	}
	rt := e.federatedGrant(e.browser(), confidentialID, confidentialSecret, "openid offline_access")["refresh_token"].(string)
	refresh := func(rt string) map[string]any {
		status, body, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, confidentialID, confidentialSecret)
		if status != 200 {
			t.Fatalf("refresh: %d %v", status, body)
		}
		return body
	}
	first, retry := refresh(rt), refresh(rt)
	if first["refresh_token"] != retry["refresh_token"] || len(sc.refreshs) != 1 {
		t.Fatalf("retry: successor %v vs %v, upstream asked %d times; want the same successor and 1", first["refresh_token"], retry["refresh_token"], len(sc.refreshs))
	}
	refresh(first["refresh_token"].(string))
	if got := string(sc.refreshs[1].ConnectorData); got != "rotated-1" {
		t.Errorf("next refresh presented %q; want the rotated rotated-1", got)
	}
}

// TestUpstreamGrantClaims: each grant keeps the claims of its own login;
// a later login of the same user with other scopes does not change them.
func TestUpstreamGrantClaims(t *testing.T) {
	e, sc := upstreamEnv(t, func(c *oidc.Config) { c.SkipApprovalScreen = true; c.Connectors[1].UpstreamRefresh = false })
	sc.logins["good"] = corpUser
	rt := e.federatedGrant(e.browser(), confidentialID, confidentialSecret, "openid groups offline_access")["refresh_token"].(string)
	noGroups := corpUser
	noGroups.Groups = nil
	sc.logins["good"] = noGroups // the connector asks for groups only when the client does
	e.federatedGrant(e.browser(), otherID, otherSecret, "openid")
	_, body, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, confidentialID, confidentialSecret)
	if got := stringList(e.verifyIDToken(body["id_token"].(string), confidentialID)["groups"]); strings.Join(got, ",") != "navy" {
		t.Errorf("groups after another client's login: %v; want [navy]", got)
	}
}

// TestUpstreamIdentityKept: without upstream refresh, each refresh keeps
// the identity record as long as the family, so that userinfo answers
// for tokens of a family older than the record's first lifetime.
func TestUpstreamIdentityKept(t *testing.T) {
	e, sc := upstreamEnv(t, func(c *oidc.Config) {
		c.SkipApprovalScreen = true
		c.Connectors[1].UpstreamRefresh = false
		c.RefreshTokens = oidc.RefreshPolicy{ValidIfNotUsedFor: 720 * time.Hour}
	})
	sc.logins["good"] = corpUser
	body := e.federatedGrant(e.browser(), confidentialID, confidentialSecret, "openid email offline_access")
	for range 3 {
		e.clock.Advance(480 * time.Hour)
		var status int
		status, body, _ = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, confidentialID, confidentialSecret)
		if status != 200 {
			t.Fatalf("refresh: %d %v", status, body)
		}
	}
	if p := e.userinfo(http.MethodGet, "Bearer "+body["access_token"].(string), ""); p.status != 200 || !strings.Contains(p.body, corpUser.Email) {
		t.Errorf("userinfo 60 days on: %d %s", p.status, p.body)
	}
}

// TestUpstreamBadIdentity: a connector's user without an id makes no
// subject: the login page says so and nothing is issued.
func TestUpstreamBadIdentity(t *testing.T) {
	e, sc := upstreamEnv(t)
	for code, id := range map[string]string{"empty": "", "utf8": "\xff\xfe"} {
		bad := corpUser
		bad.UserID = id
		sc.logins[code] = bad
		c := e.browser()
		p := e.callback(c, e.toUpstream(c, authParams()), code)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "did not name the user") {
			t.Errorf("%s user id: %d; want the login page saying so:\n%s", code, p.status, p.body)
		}
	}
}

// TestPlainSubjectCollision: with plain subjects an upstream user whose
// id is a password database user's is refused, never signed in as them.
func TestPlainSubjectCollision(t *testing.T) {
	e, sc := upstreamEnv(t, func(c *oidc.Config) { c.PlainSubjects = true; c.SkipApprovalScreen = true })
	impostor := corpUser
	impostor.UserID = userID
	sc.logins["good"] = impostor
	c := e.browser()
	p := e.callback(c, e.toUpstream(c, authParams()), "good")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "belongs to another user") {
		t.Errorf("colliding id: %d; want refused:\n%s", p.status, p.body)
	}
}

// TestRemovedConnector: the users of a connector no longer configured
// lose their grants and sessions.
func TestRemovedConnector(t *testing.T) {
	e, sc := upstreamEnv(t, func(c *oidc.Config) { c.SkipApprovalScreen = true })
	sc.logins["good"] = corpUser
	c := e.browser()
	body := e.federatedGrant(c, confidentialID, confidentialSecret, "openid offline_access")
	p, err := oidc.New(oidc.Config{Settings: oidc.Settings{Issuer: e.issuer, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)},
		Clients: e.store, Users: e.store, AuthRequests: e.store, Codes: e.store, Refresh: e.store, Revocations: e.store,
		Sessions: e.store, Consents: e.store, Attempts: e.store, Devices: e.store, Signer: testSigner, Identities: e.store})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = p.Handler() // the same issuer and store, without corp
	if status, b, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, confidentialID, confidentialSecret); status != 400 || b["error"] != oidc.ErrCodeInvalidGrant {
		t.Errorf("refresh: %d %v; want invalid_grant", status, b)
	}
	if u := e.userinfo(http.MethodGet, "Bearer "+body["access_token"].(string), ""); u.status != http.StatusUnauthorized {
		t.Errorf("userinfo: %d; want 401", u.status)
	}
	q := authParams()
	q.Set("prompt", "none")
	if loc := mustParse(t, e.get(c, oidc.PathAuthorize, q).header.Get("Location")); loc.Query().Get("error") != oidc.ErrCodeLoginRequired {
		t.Errorf("the session: %s; want login_required", loc)
	}
}

// TestUpstreamUnreachable: an upstream whose metadata cannot be had when
// the browser is sent straight to it ends the request at the client with
// temporarily_unavailable (RFC 6749 §4.1.2.1); chosen from the login page,
// it is said on a page.
func TestUpstreamUnreachable(t *testing.T) {
	e, sc := upstreamEnv(t)
	sc.down = true
	q := authParams()
	q.Set("connector_id", "corp")
	loc := mustParse(t, e.get(e.browser(), oidc.PathAuthorize, q).header.Get("Location"))
	if loc.Query().Get("error") != oidc.ErrCodeTemporarilyUnavailable || loc.Query().Get("state") != "xyz-state" {
		t.Errorf("direct: %s; want temporarily_unavailable at the client", loc)
	}
	c := e.browser()
	form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
	p := e.get(c, oidc.PathLogin, url.Values{"req": {form.Get("req")}, "connector": {"corp"}})
	if p.status != http.StatusBadGateway || !strings.Contains(p.body, "not possible right now") {
		t.Errorf("chosen: %d; want a page:\n%s", p.status, p.body)
	}
}

// TestConnectorLinkFromAnotherSite: the login page's links are followed
// only from the page itself.
func TestConnectorLinkFromAnotherSite(t *testing.T) {
	e, _ := upstreamEnv(t)
	c := e.browser()
	form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
	req, _ := http.NewRequest(http.MethodGet, e.issuer+oidc.PathLogin+"?"+url.Values{"req": {form.Get("req")}, "connector": {"corp"}}.Encode(), nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := e.do(c, req); p.status != http.StatusForbidden {
		t.Errorf("cross-site: %d; want 403", p.status)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if p := e.do(c, req); p.status != http.StatusSeeOther {
		t.Errorf("same-origin: %d; want 303 to the upstream", p.status)
	}
}

// TestForceLoginUpstream: prompt=login and max_age=0 ask the connector to
// have the user authenticate again upstream.
func TestForceLoginUpstream(t *testing.T) {
	e, sc := upstreamEnv(t)
	for _, p := range []url.Values{{"prompt": {"login"}}, {"max_age": {"0"}}, {}} {
		q := authParams()
		for k, v := range p {
			q[k] = v
		}
		e.toUpstream(e.browser(), q)
		if got, want := sc.scopes[len(sc.scopes)-1].ForceLogin, len(p) > 0; got != want {
			t.Errorf("%v: ForceLogin %v; want %v", p, got, want)
		}
	}
}

// TestConnectorIcons: the login page shows a connector's icon from Dex's
// frontend.dir layout: static/img/<id>-icon.svg, else <type>-icon.svg.
func TestConnectorIcons(t *testing.T) {
	svg := oidc.StaticFile{ContentType: "image/svg+xml", Body: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")}
	e, _ := upstreamEnv(t, func(c *oidc.Config) {
		c.Frontend.Files = map[string]oidc.StaticFile{"/static/img/oidc-icon.svg": svg, "/static/img/google-icon.svg": svg}
		c.Connectors = append(c.Connectors, oidc.Connector{ID: "google", Type: "oidc", Name: "Google", Callback: newScripted()},
			oidc.Connector{ID: "gh", Type: "github", Name: "GitHub", Callback: newScripted()})
	})
	p := e.get(e.browser(), oidc.PathAuthorize, authParams())
	for _, want := range []string{`<img src="` + e.issuer + `/static/img/oidc-icon.svg" alt="">Sign in with Corp SSO`,
		`<img src="` + e.issuer + `/static/img/google-icon.svg" alt="">Sign in with Google`, `">Sign in with GitHub`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("login page lacks %s:\n%s", want, p.body)
		}
	}
	if strings.Contains(p.body, "github-icon") {
		t.Errorf("an icon that is not among the files is shown")
	}
}

// TestDeviceFlowUpstream: a device approved by a login at a callback
// connector gets the connector's user, and its refresh token asks the
// connector again with the login's own refresh data, which travelled
// sealed toward the device code (HPKE): never in clear in the store.
func TestDeviceFlowUpstream(t *testing.T) {
	e, sc := upstreamEnv(t)
	sc.logins["good"] = corpUser
	_, auth := e.deviceAuth("openid email offline_access")
	deviceCode := auth["device_code"].(string)
	c := e.browser()
	p := e.postForm(c, oidc.PathDevice, url.Values{"user_code": {auth["user_code"].(string)}})
	m := regexp.MustCompile(`href="([^"]*connector=corp[^"]*)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("device page: %d; want the login page with corp:\n%s", p.status, p.body)
	}
	req, _ := http.NewRequest(http.MethodGet, htmlUnescape(m[1]), nil)
	loc := mustParse(t, e.do(c, req).header.Get("Location"))
	p = e.callback(c, loc.Query().Get("state"), "good")
	consent := formFields(t, p)
	consent.Set("approve", "1")
	if p = e.postForm(c, oidc.PathConsent, consent); !strings.Contains(p.body, "You may return to your device") {
		t.Fatalf("approval: %d\n%s", p.status, p.body)
	}
	for name, dump := range e.store.Snapshot() {
		if strings.Contains(dump, "SECRET") || strings.Contains(dump, "dXBzdHJlYW0tcmVmcmVzaC10b2tlbi1TRUNSRVQ") {
			t.Errorf("the store's %s hold the connector data in clear", name)
		}
	}
	status, tokens := e.pollDevice(deviceCode)
	if status != 200 {
		t.Fatalf("poll: %d %v", status, tokens)
	}
	if sub := e.verifyIDToken(tokens["id_token"].(string), publicID)["sub"]; sub != oidc.Subject("u-42", "corp") {
		t.Errorf("sub %v; want the connector's user", sub)
	}
	status, body, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens["refresh_token"].(string)}, "client_id": {publicID}}, "", "")
	if status != 200 || len(sc.refreshs) != 1 || string(sc.refreshs[0].ConnectorData) != string(corpUser.ConnectorData) {
		t.Errorf("refresh: %d %v, connector asked %+v; want the login's data", status, body, sc.refreshs)
	}
}
