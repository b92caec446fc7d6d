package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// These tests drive the core's side of callback connectors (state,
// browser binding, single use, failures, subjects, upstream refresh) with
// scriptedConnector, a connector of this test whose upstream answers are
// set by the test: the upstream side of real connectors is tested against
// real upstreams in internal/connector and e2e.

const upstreamAuth = "https://upstream.example/authorize"

// scriptedConnector answers each callback code with the identity or error
// the test put under it, and checks that the data LoginURL returned came
// back unchanged.
type scriptedConnector struct {
	mu       sync.Mutex
	logins   map[string]oidc.Identity // by upstream code
	errs     map[string]error         // by upstream code
	refresh  func(oidc.Identity) (oidc.Identity, error)
	refreshs []oidc.Identity // what Refresh was asked about
	issued   int
	scopes   []oidc.ConnectorScopes // what LoginURL was asked with
	answered atomic.Int32           // HandleCallback calls
	down     bool                   // LoginURL fails: the upstream's metadata cannot be had
}

func newScripted() *scriptedConnector {
	return &scriptedConnector{logins: map[string]oidc.Identity{}, errs: map[string]error{}}
}

func (s *scriptedConnector) LoginURL(_ context.Context, sc oidc.ConnectorScopes, callbackURL, state string) (string, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued++
	s.scopes = append(s.scopes, sc)
	if s.down {
		return "", nil, errors.Join(oidc.ErrUnavailable, errors.New("discovery: 503"))
	}
	q := url.Values{"state": {state}, "redirect_uri": {callbackURL}}
	return upstreamAuth + "?" + q.Encode(), []byte("nonce-of-" + state), nil
}

func (s *scriptedConnector) HandleCallback(_ context.Context, _ oidc.ConnectorScopes, data []byte, r *http.Request) (oidc.Identity, error) {
	s.answered.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(data) != "nonce-of-"+r.FormValue("state") {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "the answer does not match the login"}
	}
	code := r.FormValue("code")
	if err, ok := s.errs[code]; ok {
		return oidc.Identity{}, err
	}
	id, ok := s.logins[code]
	if !ok {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "unknown code"}
	}
	return id, nil
}

// TokenIdentity accepts the subject token "upstream-token" as corpUser's
// (a token exchange through the connector).
func (s *scriptedConnector) TokenIdentity(_ context.Context, _ oidc.ConnectorScopes, _, subjectToken string) (oidc.Identity, error) {
	if subjectToken != "upstream-token" {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "unknown token"}
	}
	return corpUser, nil
}

func (s *scriptedConnector) Refresh(_ context.Context, _ oidc.ConnectorScopes, id oidc.Identity) (oidc.Identity, error) {
	s.mu.Lock()
	s.refreshs = append(s.refreshs, id)
	f := s.refresh
	s.mu.Unlock()
	if f == nil {
		return id, nil
	}
	return f(id)
}

// upstreamEnv is a provider with the password database and one scripted
// callback connector, "corp".
func upstreamEnv(t testing.TB, opts ...func(*oidc.Config)) (*env, *scriptedConnector) {
	sc := newScripted()
	e := newEnv(t, append([]func(*oidc.Config){func(c *oidc.Config) {
		c.Connectors = []oidc.Connector{
			{ID: oidc.ConnectorLocal, Type: "local", Name: "Email"},
			{ID: "corp", Type: "oidc", Name: "Corp SSO", Callback: sc, UpstreamRefresh: true},
		}
		c.ConnectorStates = c.Sessions.(oidc.ConnectorStateStore)
		c.Identities = c.Sessions.(oidc.IdentityStore)
	}}, opts...)...)
	return e, sc
}

var corpUser = oidc.Identity{UserID: "u-42", Username: "Grace Hopper", PreferredUsername: "grace", Email: "grace@corp.example",
	EmailVerified: true, Groups: []string{"navy"}, ConnectorData: []byte("upstream-refresh-token-SECRET")}

// toUpstream starts an authorization request with connector_id=corp and
// returns the state the browser carries upstream.
func (e *env) toUpstream(c *http.Client, params url.Values) string {
	e.t.Helper()
	params.Set("connector_id", "corp")
	p := e.get(c, oidc.PathAuthorize, params)
	loc := mustParse(e.t, p.header.Get("Location"))
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc.String(), upstreamAuth) {
		e.t.Fatalf("GET /authorize with connector_id: %d %s; want 303 to the upstream", p.status, loc)
	}
	if got := loc.Query().Get("redirect_uri"); got != oidc.CallbackURL(e.issuer, "corp") {
		e.t.Fatalf("callback URL %q; want the connector's own, %q", got, oidc.CallbackURL(e.issuer, "corp"))
	}
	return loc.Query().Get("state")
}

// callback brings the browser back with the upstream's code.
func (e *env) callback(c *http.Client, state, code string) page {
	e.t.Helper()
	return e.get(c, oidc.PathCallback, url.Values{"state": {state}, "code": {code}})
}

// approve approves the consent page p if it is one.
func (e *env) approve(c *http.Client, p page) page {
	e.t.Helper()
	if p.status == http.StatusOK && strings.Contains(p.body, `name="approve"`) {
		consent := formFields(e.t, p)
		consent.Set("approve", "1")
		return e.postForm(c, oidc.PathConsent, consent)
	}
	return p
}

func TestUpstreamLogin(t *testing.T) {
	e, sc := upstreamEnv(t)
	sc.logins["good"] = corpUser
	c := e.browser()
	params := authParams()
	params.Set("scope", "openid email profile groups federated:id offline_access")
	state := e.toUpstream(c, params)
	p := e.approve(c, e.callback(c, state, "good"))
	loc := mustParse(t, p.header.Get("Location"))
	code := loc.Query().Get("code")
	if p.status != http.StatusSeeOther || code == "" || loc.Query().Get("state") != "xyz-state" {
		t.Fatalf("callback: %d %s; want a code for the client", p.status, loc)
	}
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, confidentialID, confidentialSecret)
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	claims := e.verifyIDToken(body["id_token"].(string), confidentialID)
	wantSub := oidc.Subject("u-42", "corp")
	fed, _ := claims["federated_claims"].(map[string]any)
	if claims["sub"] != wantSub || claims["email"] != corpUser.Email || claims["name"] != "Grace Hopper" ||
		claims["preferred_username"] != "grace" || strings.Join(stringList(claims["groups"]), ",") != "navy" ||
		fed["connector_id"] != "corp" || fed["user_id"] != "u-42" {
		t.Errorf("ID token claims %v; want the upstream's user as %s", claims, wantSub)
	}
	info := e.userinfo(http.MethodGet, "Bearer "+body["access_token"].(string), "")
	if info.status != 200 || !strings.Contains(info.body, wantSub) || !strings.Contains(info.body, "grace@corp.example") {
		t.Errorf("userinfo: %d %s", info.status, info.body)
	}
	// The upstream's refresh token is never stored in clear.
	for name, dump := range e.store.Snapshot() {
		if strings.Contains(dump, "SECRET") || strings.Contains(dump, "dXBzdHJlYW0tcmVmcmVzaC10b2tlbi1TRUNSRVQ") {
			t.Errorf("the store's %s hold the connector data in clear", name)
		}
	}

	// Upstream refresh: the connector gets its data back and its answer
	// (new groups) makes the new ID token.
	sc.refresh = func(id oidc.Identity) (oidc.Identity, error) {
		id.Groups = []string{"navy", "admirals"}
		id.ConnectorData = []byte("rotated-upstream-token")
		return id, nil
	}
	rt := body["refresh_token"].(string)
	status, body, _ = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, confidentialID, confidentialSecret)
	if status != 200 || len(sc.refreshs) != 1 || string(sc.refreshs[0].ConnectorData) != string(corpUser.ConnectorData) || sc.refreshs[0].UserID != "u-42" {
		t.Fatalf("refresh: %d %v; connector asked %+v", status, body, sc.refreshs)
	}
	if got := stringList(e.verifyIDToken(body["id_token"].(string), confidentialID)["groups"]); strings.Join(got, ",") != "navy,admirals" {
		t.Errorf("groups after upstream refresh %v", got)
	}
	status, body, _ = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, confidentialID, confidentialSecret)
	if status != 200 || string(sc.refreshs[1].ConnectorData) != "rotated-upstream-token" {
		t.Fatalf("second refresh: %d %v; connector data %q; want the rotated one", status, body, sc.refreshs[1].ConnectorData)
	}

	// The upstream no longer knows the user: invalid_grant, and the grant
	// is revoked for good.
	sc.refresh = func(oidc.Identity) (oidc.Identity, error) { return oidc.Identity{}, oidc.ErrUserGone }
	rt = body["refresh_token"].(string)
	for i := range 2 {
		status, body, _ = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, confidentialID, confidentialSecret)
		if status != 400 || body["error"] != oidc.ErrCodeInvalidGrant {
			t.Errorf("refresh %d after the user left: %d %v; want invalid_grant", i, status, body)
		}
	}
	if len(sc.refreshs) != 3 {
		t.Errorf("connector asked %d times; want 3 (a revoked grant is not refreshed upstream)", len(sc.refreshs))
	}
}

// TestUpstreamRefreshOff: with UpstreamRefresh off the connector is not
// asked; a refresh uses the identity of the login.
func TestUpstreamRefreshOff(t *testing.T) {
	e, sc := upstreamEnv(t, func(c *oidc.Config) { c.Connectors[1].UpstreamRefresh = false })
	sc.logins["good"] = corpUser
	c := e.browser()
	params := authParams()
	params.Set("scope", "openid offline_access")
	loc := mustParse(t, e.approve(c, e.callback(c, e.toUpstream(c, params), "good")).header.Get("Location"))
	_, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirectURI}}, confidentialID, confidentialSecret)
	status, body, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, confidentialID, confidentialSecret)
	if status != 200 || len(sc.refreshs) != 0 {
		t.Errorf("refresh: %d %v, connector asked %d times; want 200 and none", status, body, len(sc.refreshs))
	}
}

// TestUpstreamCallbackBinding: a callback from another browser, with an
// unknown state, or a second time, changes nothing; the browser that
// started the login still completes it.
func TestUpstreamCallbackBinding(t *testing.T) {
	e, sc := upstreamEnv(t)
	sc.logins["good"] = corpUser
	c := e.browser()
	state := e.toUpstream(c, authParams())
	before := e.store.Snapshot()

	if p := e.callback(e.browser(), state, "good"); p.status != http.StatusForbidden || !strings.Contains(p.body, "another browser") {
		t.Errorf("callback in another browser: %d; want 403 and a page", p.status)
	}
	if p := e.callback(c, strings.Repeat("A", 43), "good"); p.status != http.StatusBadRequest {
		t.Errorf("unknown state: %d; want 400", p.status)
	}
	if p := e.callback(c, "", "good"); p.status != http.StatusBadRequest {
		t.Errorf("no state: %d; want 400", p.status)
	}
	if p := e.callback(c, strings.Repeat("s", 60<<10), "good"); p.status != http.StatusBadRequest {
		t.Errorf("state of 60 KB: %d; want 400", p.status)
	}
	if p := e.get(c, oidc.PathCallback, url.Values{"state": {state}, "state ": {state}, "code": {"good", "evil"}}); p.status != http.StatusBadRequest {
		t.Errorf("code given twice: %d; want 400", p.status)
	}
	if p := e.get(c, oidc.PathCallback+"/other", url.Values{"state": {state}, "code": {"good"}}); p.status != http.StatusBadRequest {
		t.Errorf("callback naming another connector: %d; want 400", p.status)
	}
	after := e.store.Snapshot()
	for _, k := range []string{"requests", "states", "identities", "codes"} {
		if before[k] != after[k] {
			t.Errorf("refused callbacks changed the store's %s", k)
		}
	}
	p := e.approve(c, e.get(c, oidc.PathCallback+"/corp", url.Values{"state": {state}, "code": {"good"}}))
	if loc := mustParse(t, p.header.Get("Location")); loc.Query().Get("code") == "" {
		t.Fatalf("the right browser at /callback/corp: %d %s; want a code", p.status, loc)
	}
	if p := e.callback(c, state, "good"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "expired or was already completed") {
		t.Errorf("replayed callback: %d; want 400 and a page", p.status)
	}
}

// TestUpstreamConcurrentCallbacks: of parallel callbacks for one login,
// exactly one signs the user in.
func TestUpstreamConcurrentCallbacks(t *testing.T) {
	e, sc := upstreamEnv(t, func(c *oidc.Config) { c.SkipApprovalScreen = true })
	sc.logins["good"] = corpUser
	c := e.browser()
	state := e.toUpstream(c, authParams())
	const n = 8
	var codes atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+oidc.PathCallback+"?"+url.Values{"state": {state}, "code": {"good"}}.Encode(), nil)
			resp, err := c.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if loc, _ := url.Parse(resp.Header.Get("Location")); loc != nil && loc.Query().Get("code") != "" {
				codes.Add(1)
			}
		})
	}
	wg.Wait()
	if codes.Load() != 1 || sc.answered.Load() != 1 {
		t.Errorf("%d of %d parallel callbacks got a code, %d asked the upstream; want exactly 1 and 1", codes.Load(), n, sc.answered.Load())
	}
}

// TestUpstreamFailures: the user declining upstream ends the request at the
// client with access_denied; any other failure shows the login page with
// the reason, from which the user can try again.
func TestUpstreamFailures(t *testing.T) {
	e, sc := upstreamEnv(t)
	sc.logins["good"] = corpUser
	sc.errs["denied"] = oidc.ErrUpstreamDenied
	sc.errs["down"] = errors.Join(oidc.ErrUnavailable, errors.New("upstream token endpoint: 503"))
	sc.errs["bad"] = &oidc.UpstreamError{Reason: "the ID token's signature is invalid", Err: errors.New("square/go-jose: error in cryptographic primitive")}
	sc.errs["odd"] = errors.New("something unexpected")

	c := e.browser()
	p := e.callback(c, e.toUpstream(c, authParams()), "denied")
	loc := mustParse(t, p.header.Get("Location"))
	if p.status != http.StatusFound || loc.Query().Get("error") != oidc.ErrCodeAccessDenied || loc.Query().Get("state") != "xyz-state" {
		t.Errorf("declined upstream: %d %s; want access_denied at the client", p.status, loc)
	}
	for code, want := range map[string]string{"down": "Corp SSO did not answer", "bad": "the ID token&#39;s signature is invalid", "odd": "Signing in with Corp SSO failed."} {
		c := e.browser()
		p := e.callback(c, e.toUpstream(c, authParams()), code)
		if p.status < 400 || !strings.Contains(p.body, want) || !strings.Contains(p.body, "connector=corp") {
			t.Errorf("%s: %d; want the login page saying %q:\n%s", code, p.status, want, p.body)
			continue
		}
		if strings.Contains(p.body, "go-jose") || strings.Contains(p.body, "unexpected") {
			t.Errorf("%s: the page shows the error's detail", code)
		}
		// Try again from the page's link: a new state, then success.
		m := regexp.MustCompile(`href="([^"]*connector=corp[^"]*)"`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("%s: no link to corp", code)
		}
		req, _ := http.NewRequest(http.MethodGet, htmlUnescape(m[1]), nil)
		p = e.do(c, req)
		next := mustParse(t, p.header.Get("Location"))
		if p.status != http.StatusSeeOther || !strings.HasPrefix(next.String(), upstreamAuth) {
			t.Fatalf("%s: the link: %d %s; want the upstream again", code, p.status, next)
		}
		p = e.approve(c, e.callback(c, next.Query().Get("state"), "good"))
		if got := mustParse(t, p.header.Get("Location")).Query().Get("code"); got == "" {
			t.Errorf("%s: retry: %d; want a code", code, p.status)
		}
	}
}

// TestConnectorChoice: the login page lists the client's connectors; one
// callback connector alone is gone to straight away unless the login
// screen is always shown; connector_id must name an allowed connector.
func TestConnectorChoice(t *testing.T) {
	e, _ := upstreamEnv(t)
	p := e.get(e.browser(), oidc.PathAuthorize, authParams())
	if p.status != 200 || !strings.Contains(p.body, "Sign in with Corp SSO") || !strings.Contains(p.body, `name="password"`) {
		t.Errorf("login page: %d; want the password form and the Corp SSO link:\n%s", p.status, p.body)
	}
	e.store.PutClient(oidc.Client{ID: "corp-only", SecretHash: oidc.HashSecret("s"), RedirectURIs: []string{redirectURI}, AllowedConnectors: []string{"corp"}})
	q := authParams()
	q.Set("client_id", "corp-only")
	if p := e.get(e.browser(), oidc.PathAuthorize, q); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), upstreamAuth) {
		t.Errorf("a client with one connector: %d %s; want straight to the upstream", p.status, p.header.Get("Location"))
	}
	shown, _ := upstreamEnv(t, func(c *oidc.Config) { c.AlwaysShowLoginScreen = true })
	shown.store.PutClient(oidc.Client{ID: "corp-only", SecretHash: oidc.HashSecret("s"), RedirectURIs: []string{redirectURI}, AllowedConnectors: []string{"corp"}})
	if p := shown.get(shown.browser(), oidc.PathAuthorize, q); p.status != 200 || !strings.Contains(p.body, "Sign in with Corp SSO") || strings.Contains(p.body, `name="password"`) {
		t.Errorf("alwaysShowLoginScreen: %d; want the page with the link alone:\n%s", p.status, p.body)
	}
	for id, want := range map[string]string{"nope": oidc.ErrCodeInvalidRequest, "local": oidc.ErrCodeAccessDenied} {
		q := authParams()
		q.Set("client_id", "corp-only")
		q.Set("connector_id", id)
		loc := mustParse(t, e.get(e.browser(), oidc.PathAuthorize, q).header.Get("Location"))
		if loc.Query().Get("error") != want {
			t.Errorf("connector_id=%s: %s; want %s", id, loc, want)
		}
	}
}

// TestUpstreamSessions: a session started upstream answers the clients it
// is shared with, never one that does not allow its connector, nor a
// request naming another connector, nor one for a grant that asks the
// connector again at refresh: that grant needs an upstream login of its
// own (its own copy of the upstream's refresh token).
func TestUpstreamSessions(t *testing.T) {
	e, sc := upstreamEnv(t, func(c *oidc.Config) { c.SkipApprovalScreen = true })
	sc.logins["good"] = corpUser
	e.store.PutClient(oidc.Client{ID: "local-only", SecretHash: oidc.HashSecret("s"), RedirectURIs: []string{redirectURI}, AllowedConnectors: []string{oidc.ConnectorLocal}})
	c := e.browser()
	p := e.callback(c, e.toUpstream(c, authParams()), "good")
	if mustParse(t, p.header.Get("Location")).Query().Get("code") == "" {
		t.Fatalf("login: %d", p.status)
	}
	silent := func(client, connector, scope string) url.Values {
		q := authParams()
		q.Set("client_id", client)
		q.Set("prompt", "none")
		q.Set("scope", scope)
		if connector != "" {
			q.Set("connector_id", connector)
		}
		return q
	}
	loc := mustParse(t, e.get(c, oidc.PathAuthorize, silent(otherID, "", "openid email groups")).header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("silent login of another client: %s; want a code", loc)
	}
	_, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, otherID, otherSecret)
	claims := e.verifyIDToken(body["id_token"].(string), otherID)
	if claims["sub"] != oidc.Subject("u-42", "corp") || claims["email"] != corpUser.Email || strings.Join(stringList(claims["groups"]), ",") != "navy" {
		t.Errorf("silent login's ID token: %v; want the upstream's user", claims)
	}
	for _, tt := range []struct{ client, connector, scope string }{
		{"local-only", "", "openid"}, {confidentialID, oidc.ConnectorLocal, "openid"}, {confidentialID, "", "openid offline_access"},
	} {
		loc := mustParse(t, e.get(c, oidc.PathAuthorize, silent(tt.client, tt.connector, tt.scope)).header.Get("Location"))
		if loc.Query().Get("error") != oidc.ErrCodeLoginRequired {
			t.Errorf("%s, connector_id %q, scope %q: %s; want login_required", tt.client, tt.connector, tt.scope, loc)
		}
	}
	q := authParams()
	q.Set("scope", "openid offline_access")
	q.Set("connector_id", "corp")
	if p := e.get(c, oidc.PathAuthorize, q); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), upstreamAuth) {
		t.Errorf("offline_access with a session: %d %s; want the upstream again", p.status, p.header.Get("Location"))
	}
}

// TestPlainSubjects: with PlainSubjects the sub is the connector's user id.
func TestPlainSubjects(t *testing.T) {
	e, sc := upstreamEnv(t, func(c *oidc.Config) { c.PlainSubjects = true; c.SkipApprovalScreen = true })
	sc.logins["good"] = corpUser
	c := e.browser()
	loc := mustParse(t, e.callback(c, e.toUpstream(c, authParams()), "good").header.Get("Location"))
	_, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirectURI}}, confidentialID, confidentialSecret)
	if sub := e.verifyIDToken(body["id_token"].(string), confidentialID)["sub"]; sub != "u-42" {
		t.Errorf("sub %v; want u-42", sub)
	}
	local := e.code(authParams())
	_, body, _ = e.token(url.Values{"grant_type": {"authorization_code"}, "code": {local}, "redirect_uri": {redirectURI}}, confidentialID, confidentialSecret)
	if sub := e.verifyIDToken(body["id_token"].(string), confidentialID)["sub"]; sub != userID {
		t.Errorf("password database sub %v; want %s", sub, userID)
	}
}

// TestDexSubject: the sub of Dex's documentation for its example static
// password user, byte for byte.
func TestDexSubject(t *testing.T) {
	if got := oidc.Subject("08a8684b-db88-4b73-90a9-3cd1661f5466", "local"); got != "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs" {
		t.Errorf("Subject = %s", got)
	}
}
