package oidc_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/serverless-oidc/op/pkg/oidc"
	"golang.org/x/crypto/bcrypt"
)

// The hostile-input suite: malformed and hostile requests at every endpoint
// (hostile_*_test.go hold the cases, one file per group of endpoints). Each
// case runs against a fresh provider, asserts the exact status and OAuth
// error code (or page), and then the properties every answer must have:
//
//   - no redirect (Location, or a form_post action) to a URI that is not
//     registered, or that carries parameters the provider did not add;
//   - nothing written: the memory store's snapshot is unchanged, except for
//     the concerns the case names (a failed login counts an attempt);
//   - no secret in the log, written at DEBUG level: neither the secrets the
//     fixture's flows produced nor the credentials the request carried;
//   - no server error and no unescaped markup from the request.
//
// A case whose correct behaviour is not the current one is listed in
// knownDefects: it still runs and asserts the correct behaviour, but its
// failures are reported with t.Log, so the suite stays green until the
// defect is fixed and the case is removed from the list.

// knownDefects names cases (endpoint/name, as in the test name) that
// assert the correct behaviour the provider does not have yet, with what
// it does instead. Remove an entry when its defect is fixed.
var knownDefects = map[string]string{}

// The user the hostile fixture signs in: a password no other test uses, so
// a scan of the log for it cannot match anything else.
const (
	victimID       = "7d0c1f3e-hostile-victim"
	victimEmail    = "victim@example.com"
	victimPassword = "Tr0ub4dor&3-correct-horse-battery"
)

// A public native client whose loopback redirect URI names no port: any
// port matches (RFC 8252 §7.3).
const (
	loopbackID  = "hostile-native"
	loopbackURI = "http://127.0.0.1/callback"
)

var victimHash, _ = bcrypt.GenerateFromPassword([]byte(victimPassword), bcrypt.MinCost)

// foreignKey signs tokens the provider never issued (generated once: RSA
// key generation is slow).
var foreignKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a fresh provider logging at DEBUG into a buffer, with the
// state hostile requests attack built on demand (a signed-in browser, a
// pending login, codes, tokens), remembering every secret it saw.
type fixture struct {
	*env
	logs    *lockedBuffer
	secrets []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	logs := &lockedBuffer{}
	e := newEnv(t, func(c *oidc.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.store.PutClient(oidc.Client{ID: confidentialID, Name: "Example App", SecretHash: oidc.HashSecret(confidentialSecret),
		RedirectURIs: []string{redirectURI}, PostLogoutRedirectURIs: []string{logoutURI}})
	e.store.PutClient(oidc.Client{ID: loopbackID, Public: true, RedirectURIs: []string{loopbackURI}})
	putUser(t, e.store, oidc.User{Subject: victimID, Email: victimEmail, EmailVerified: true, Username: "victim", PasswordHash: victimHash})
	return &fixture{env: e, logs: logs, secrets: []string{confidentialSecret, otherSecret, victimPassword}}
}

// keep records secrets to look for in the log.
func (f *fixture) keep(secrets ...string) {
	for _, s := range secrets {
		if s != "" {
			f.secrets = append(f.secrets, s)
		}
	}
}

// keepCookies records the browser's cookies for the issuer.
func (f *fixture) keepCookies(c *http.Client) {
	u, _ := url.Parse(f.issuer)
	for _, ck := range c.Jar.Cookies(u) {
		f.keep(ck.Value)
	}
}

func (f *fixture) cookie(c *http.Client, name string) string {
	u, _ := url.Parse(f.issuer)
	return cookieValue(c, u, name)
}

// send is do without failing the test: a handler panic closes the
// connection, which must be reported as the case's failure.
func (f *fixture) send(c *http.Client, req *http.Request) (page, error) {
	if c == nil {
		c = f.browser()
	}
	resp, err := c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}, nil
}

// pending starts a login in a fresh browser and returns it with the login
// form's fields (req, csrf).
func (f *fixture) pending(params url.Values) (*http.Client, url.Values) {
	f.t.Helper()
	c := f.browser()
	p := f.get(c, oidc.PathAuthorize, params)
	form := formFields(f.t, p)
	f.keep(form.Get("req"), form.Get("csrf"))
	f.keepCookies(c)
	return c, form
}

// consentPending signs the victim in and stops at the approval page
// (prompt=consent: it is shown even when an approval is remembered).
func (f *fixture) consentPending() (*http.Client, url.Values) {
	f.t.Helper()
	c, p := f.passwordLogin(merge(authParams(), "prompt", "consent"))
	if !strings.Contains(p.body, `name="approve"`) {
		f.t.Fatalf("login: %d, no approval page:\n%s", p.status, p.body)
	}
	return c, formFields(f.t, p)
}

// passwordLogin submits the victim's password to a fresh login of params.
func (f *fixture) passwordLogin(params url.Values) (*http.Client, page) {
	f.t.Helper()
	c, form := f.pending(params)
	form.Set("login", victimEmail)
	form.Set("password", victimPassword)
	p := f.postForm(c, oidc.PathLogin, form)
	f.keepCookies(c)
	return c, p
}

// signedIn returns a browser with a single sign-on session of the victim
// whose consent for the confidential client is remembered, and an ID token
// of that login.
func (f *fixture) signedIn() (*http.Client, string) {
	f.t.Helper()
	c, p := f.passwordLogin(authParams())
	if strings.Contains(p.body, `name="approve"`) {
		form := formFields(f.t, p)
		form.Set("approve", "1")
		p = f.postForm(c, oidc.PathConsent, form)
	}
	code := f.codeFrom(p)
	tok := f.exchange(codeForm(code, ""), confidentialID, confidentialSecret)
	f.keepCookies(c)
	return c, tok["id_token"].(string)
}

func (f *fixture) codeFrom(p page) string {
	f.t.Helper()
	code := mustParse(f.t, p.header.Get("Location")).Query().Get("code")
	if code == "" {
		f.t.Fatalf("no code: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	f.keep(code)
	return code
}

// exchange redeems a code (or refreshes) and records the tokens.
func (f *fixture) exchange(form url.Values, id, secret string) map[string]any {
	f.t.Helper()
	if form.Get("code_verifier") == "" {
		form.Del("code_verifier")
	}
	status, body, _ := f.token(form, id, secret)
	if status != http.StatusOK {
		f.t.Fatalf("token: %d %v", status, body)
	}
	for _, k := range []string{"access_token", "id_token", "refresh_token"} {
		s, _ := body[k].(string)
		f.keep(s)
	}
	return body
}

// silentCode signs in and returns an unused code of params (sent silently
// from the session).
func (f *fixture) silentCode(params url.Values) string {
	f.t.Helper()
	c, _ := f.signedIn()
	return f.codeFrom(f.get(c, oidc.PathAuthorize, params))
}

// pkceCode returns an unused code of the confidential client bound to an
// S256 challenge of verifier.
func (f *fixture) pkceCode(verifier string) string {
	params := authParams()
	params.Set("code_challenge", s256(verifier))
	params.Set("code_challenge_method", "S256")
	f.keep(verifier)
	return f.silentCode(params)
}

// tokens returns a token response of the confidential client; offline asks
// for a refresh token.
func (f *fixture) tokens(offline bool) map[string]any {
	params := authParams()
	if offline {
		params.Set("scope", "openid email offline_access")
	}
	// With offline_access the remembered consent does not cover the
	// request: approve it once more.
	c, _ := f.signedIn()
	p := f.get(c, oidc.PathAuthorize, params)
	if strings.Contains(p.body, `name="approve"`) {
		form := formFields(f.t, p)
		form.Set("approve", "1")
		p = f.postForm(c, oidc.PathConsent, form)
	}
	return f.exchange(codeForm(f.codeFrom(p), ""), confidentialID, confidentialSecret)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ownToken signs claims with the provider's own key, with header typ.
func (f *fixture) ownToken(typ string, claims jwt.MapClaims) string {
	f.t.Helper()
	key, err := testSigner.SigningKey(f.t.Context(), oidc.RS256)
	if err != nil {
		f.t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(key.Algorithm), claims)
	tok.Header["kid"], tok.Header["typ"] = key.KeyID, typ
	input, err := tok.SigningString()
	if err != nil {
		f.t.Fatal(err)
	}
	sig, err := testSigner.Sign(f.t.Context(), key.KeyID, []byte(input))
	if err != nil {
		f.t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// foreignToken signs claims with a key the provider never published, under
// the provider's own kid.
func (f *fixture) foreignToken(typ string, claims jwt.MapClaims) string {
	f.t.Helper()
	key, _ := testSigner.SigningKey(f.t.Context(), oidc.RS256)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"], tok.Header["typ"] = key.KeyID, typ
	s, err := tok.SignedString(foreignKey())
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// noneToken is an unsigned token (alg "none") under the provider's kid.
func (f *fixture) noneToken(typ string, claims jwt.MapClaims) string {
	f.t.Helper()
	key, _ := testSigner.SigningKey(f.t.Context(), oidc.RS256)
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	tok.Header["kid"], tok.Header["typ"] = key.KeyID, typ
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// hmacConfusion is an HS256 token keyed with the provider's public key
// bytes: the classic algorithm-confusion forgery.
func (f *fixture) hmacConfusion(typ string, claims jwt.MapClaims) string {
	f.t.Helper()
	key, _ := testSigner.SigningKey(f.t.Context(), oidc.RS256)
	pub, ok := key.Key.(*rsa.PublicKey)
	if !ok {
		f.t.Fatalf("test key is %T", key.Key)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"], tok.Header["typ"] = key.KeyID, typ
	s, err := tok.SignedString(pub.N.Bytes())
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// idClaims are the claims of an ID token of the victim for the
// confidential client.
// victimSubject is the victim's sub: Dex's encoding of victimID.
var victimSubject = oidc.Subject(victimID, oidc.ConnectorLocal)

func (f *fixture) idClaims() jwt.MapClaims {
	now := f.clock.Now()
	return jwt.MapClaims{"iss": f.issuer, "sub": victimSubject, "aud": confidentialID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// accessClaims are the claims of an access token of the victim for the
// confidential client.
func (f *fixture) accessClaims() jwt.MapClaims {
	now := f.clock.Now()
	return jwt.MapClaims{"iss": f.issuer, "sub": victimSubject, "aud": f.issuer + oidc.PathUserInfo,
		"client_id": confidentialID, "scope": "openid email", "jti": "hostile-jti",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// Request builders.

func (f *fixture) req(method, path, rawQuery string, body io.Reader) *http.Request {
	f.t.Helper()
	req, err := http.NewRequest(method, f.issuer+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	req.URL.RawQuery = rawQuery
	return req
}

func (f *fixture) getQ(path string, q url.Values) *http.Request {
	return f.req(http.MethodGet, path, q.Encode(), nil)
}

func (f *fixture) getRaw(path, rawQuery string) *http.Request {
	return f.req(http.MethodGet, path, rawQuery, nil)
}

func (f *fixture) postRaw(path, contentType, body string) *http.Request {
	req := f.req(http.MethodPost, path, "", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func (f *fixture) postF(path string, form url.Values) *http.Request {
	return f.postRaw(path, formType, form.Encode())
}

const formType = "application/x-www-form-urlencoded"

func basic(req *http.Request, id, secret string) *http.Request {
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return req
}

func header(req *http.Request, kv ...string) *http.Request {
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Add(kv[i], kv[i+1])
	}
	return req
}

func merge(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "\x00delete" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// deleted, as a value for merge, removes the parameter.
const deleted = "\x00delete"

// Outcomes.

type expectedKind int

const (
	kindJSONError     expectedKind = iota // JSON {"error": code}
	kindBearerError                       // JSON error and WWW-Authenticate: Bearer error=code
	kindPage                              // HTML page showing text
	kindRedirectError                     // Location to the client with error=code
	kindFormPostError                     // form_post page to the client with error=code
	kindLoginPage                         // the login form
	kindConsentPage                       // the approval page
	kindJSON                              // a JSON success; check looks at it
	kindEmpty                             // no body
	kindRedirect                          // a Location to a registered URI without error
	kindTransport                         // answered before the handler (net/http limits)
)

type expected struct {
	kind   expectedKind
	status int
	code   string // OAuth error code
	text   string // what a page shows
	to     string // the redirect target; redirectURI when empty
	// challenge: the WWW-Authenticate value must start with this ("" for
	// none required; "-" for none allowed).
	challenge string
	mayWrite  []string // store concerns the request may change
	check     func(f *fixture, p page) string
}

func jsonError(status int, code string) expected {
	return expected{kind: kindJSONError, status: status, code: code}
}

func invalidClient() expected {
	return expected{kind: kindJSONError, status: http.StatusUnauthorized, code: oidc.ErrCodeInvalidClient, challenge: "-"}
}

func invalidBasic() expected {
	return expected{kind: kindJSONError, status: http.StatusUnauthorized, code: oidc.ErrCodeInvalidClient, challenge: "Basic "}
}

func bearerError(status int, code string) expected {
	return expected{kind: kindBearerError, status: status, code: code, challenge: `Bearer error="` + code + `"`}
}

func errorPage(status int, text string) expected {
	return expected{kind: kindPage, status: status, text: text}
}

func redirectError(status int, code string) expected {
	return expected{kind: kindRedirectError, status: status, code: code}
}

func formPostError(code string) expected {
	return expected{kind: kindFormPostError, status: http.StatusOK, code: code}
}

func loginPage(status int) expected {
	return expected{kind: kindLoginPage, status: status}
}

func consentPage() expected { return expected{kind: kindConsentPage, status: http.StatusOK} }

func jsonOK(check func(f *fixture, p page) string) expected {
	return expected{kind: kindJSON, status: http.StatusOK, check: check}
}

func empty(status int) expected { return expected{kind: kindEmpty, status: status} }

func redirectTo(status int, to string) expected {
	return expected{kind: kindRedirect, status: status, to: to}
}

func transport(status int) expected { return expected{kind: kindTransport, status: status} }

func methodNotAllowed() expected {
	return jsonError(http.StatusMethodNotAllowed, oidc.ErrCodeMethodNotAllowed)
}

func notFound() expected { return jsonError(http.StatusNotFound, oidc.ErrCodeNotFound) }

func (o expected) writes(concerns ...string) expected {
	o.mayWrite = append(slices.Clone(o.mayWrite), concerns...)
	return o
}

func (o expected) at(to string) expected { o.to = to; return o }

func (o expected) and(check func(f *fixture, p page) string) expected {
	prev := o.check
	o.check = func(f *fixture, p page) string {
		if prev != nil {
			if msg := prev(f, p); msg != "" {
				return msg
			}
		}
		return check(f, p)
	}
	return o
}

// A hostile case: build prepares state (before the store is snapshotted)
// and returns the request and the browser to send it with (nil: a fresh
// one).
type hostileCase struct {
	endpoint string
	name     string
	build    func(f *fixture) (*http.Client, *http.Request)
	want     expected
}

// Endpoint names of the count.
const (
	epDiscovery     = "discovery"
	epJWKS          = "jwks"
	epAuthorizeGET  = "authorize GET"
	epAuthorizePOST = "authorize POST"
	epLogin         = "login"
	epConsent       = "consent"
	epLogout        = "logout"
	epToken         = "token"
	epRevoke        = "revoke"
	epIntrospect    = "introspect"
	epUserInfo      = "userinfo"
	epRouting       = "routing"
)

// hostileCases is every case of the suite.
func hostileCases() []hostileCase {
	var all []hostileCase
	for _, group := range [][]hostileCase{
		discoveryCases(), jwksCases(), routingCases(),
		authorizeGETCases(), redirectURICases(), authorizePOSTCases(),
		loginCases(), consentCases(), logoutCases(),
		tokenCases(), codeGrantCases(), refreshGrantCases(),
		revokeCases(), introspectCases(), userInfoCases(), corsCases(),
	} {
		all = append(all, group...)
	}
	return all
}

func TestHostileInputs(t *testing.T) {
	cases := hostileCases()
	counts := map[string]int{}
	seen := map[string]bool{}
	for _, c := range cases {
		counts[c.endpoint]++
		id := c.endpoint + "/" + c.name
		if seen[id] {
			t.Fatalf("two cases named %q", id)
		}
		seen[id] = true
	}
	for id := range knownDefects {
		if !seen[id] {
			t.Errorf("knownDefects names %q, which is no case", id)
		}
	}
	if len(cases) < 200 {
		t.Errorf("%d hostile cases; want at least 200", len(cases))
	}
	t.Run("case", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.endpoint+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				runHostile(t, c)
			})
		}
	})
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	var summary strings.Builder
	for _, n := range names {
		fmt.Fprintf(&summary, "%s %d; ", n, counts[n])
	}
	t.Logf("%d hostile cases (%s%d known defects)", len(cases), summary.String(), len(knownDefects))
}

func runHostile(t *testing.T, c hostileCase) {
	f := newFixture(t)
	client, req := c.build(f)
	f.keep(requestSecrets(req)...)
	before := f.store.Snapshot()
	p, err := f.send(client, req)

	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }
	if err != nil {
		fail("request failed (a handler panic closes the connection): %v", err)
	} else {
		for _, msg := range checkOutcome(f, c.want, p) {
			fail("%s", msg)
		}
	}
	after := f.store.Snapshot()
	for concern, was := range before {
		if after[concern] != was && !slices.Contains(c.want.mayWrite, concern) {
			fail("the request wrote %s:\nbefore %s\nafter  %s", concern, was, after[concern])
		}
	}
	for _, msg := range secretsInLog(f.logs.String(), f.secrets) {
		fail("%s", msg)
	}

	id := c.endpoint + "/" + c.name
	if defect, known := knownDefects[id]; known {
		if len(failures) == 0 {
			t.Logf("known defect %q now behaves correctly: remove it from knownDefects", id)
			return
		}
		t.Logf("KNOWN DEFECT (%s); the correct behaviour is asserted but not enforced:", defect)
		for _, msg := range failures {
			t.Log("  " + msg)
		}
		return
	}
	for _, msg := range failures {
		t.Error(msg)
	}
}

// checkOutcome returns what is wrong with p for want, and with the
// properties every answer must have.
func checkOutcome(f *fixture, want expected, p page) []string {
	var out []string
	fail := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	body := p.body
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:] // the page's content, not its head
	}
	if len(body) > 600 {
		body = body[:600] + "…"
	}
	if p.status != want.status {
		fail("status %d; want %d\n%s", p.status, want.status, body)
	}
	if p.status >= 500 && want.status < 500 {
		fail("server error")
	}
	if strings.Contains(p.body, "<script>alert(1)</script>") {
		fail("the page reflects markup from the request unescaped")
	}
	loc := p.header.Get("Location")
	if msg := unregisteredTarget(f, loc, want.to); msg != "" {
		fail("Location: %s", msg)
	}
	for _, m := range formAction.FindAllStringSubmatch(p.body, -1) {
		action := html.UnescapeString(m[1])
		if action == f.issuer+oidc.PathLogin || action == f.issuer+oidc.PathConsent || action == f.issuer+oidc.PathLogout {
			continue
		}
		if msg := unregisteredTarget(f, action, want.to); msg != "" {
			fail("form action: %s", msg)
		}
	}
	ctype := p.header.Get("Content-Type")
	isJSON := strings.HasPrefix(ctype, "application/json")
	isHTML := strings.HasPrefix(ctype, "text/html")
	if want.kind != kindTransport && p.header.Get("X-Content-Type-Options") != "nosniff" {
		fail("no X-Content-Type-Options: nosniff")
	}
	if isHTML {
		// RFC 9700 §4.16: pages cannot be framed; nothing is cached.
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || p.header.Get("X-Frame-Options") != "DENY" {
			fail("a page that may be framed (CSP %q)", csp)
		}
	}
	if (isHTML || loc != "") && p.header.Get("Cache-Control") != "no-store" {
		fail("Cache-Control %q on a page or redirect; want no-store", p.header.Get("Cache-Control"))
	}
	jsonCode := func() string {
		var m map[string]any
		if err := json.Unmarshal([]byte(p.body), &m); err != nil {
			fail("body is not JSON: %v\n%s", err, body)
			return ""
		}
		s, _ := m["error"].(string)
		return s
	}
	wwwAuth := p.header.Get("WWW-Authenticate")
	switch want.challenge {
	case "":
	case "-":
		if wwwAuth != "" {
			fail("WWW-Authenticate %q; want none", wwwAuth)
		}
	default:
		if !strings.HasPrefix(wwwAuth, want.challenge) {
			fail("WWW-Authenticate %q; want %q…", wwwAuth, want.challenge)
		}
	}

	switch want.kind {
	case kindJSONError, kindBearerError:
		if !isJSON {
			fail("Content-Type %q; want JSON\n%s", ctype, body)
		} else if got := jsonCode(); got != want.code {
			fail("error %q; want %q", got, want.code)
		}
		if cc := p.header.Get("Cache-Control"); cc != "no-store" {
			fail("Cache-Control %q; want no-store", cc)
		}
		if loc != "" {
			fail("an error answered with a Location %q", loc)
		}
	case kindPage:
		if !isHTML {
			fail("Content-Type %q; want an HTML page\n%s", ctype, body)
		}
		if !strings.Contains(html.UnescapeString(p.body), want.text) {
			fail("the page does not say %q:\n%s", want.text, body)
		}
		if loc != "" {
			fail("a page with a Location %q", loc)
		}
		if strings.Contains(p.body, `name="password"`) || strings.Contains(p.body, `name="approve"`) {
			fail("an error page with a login or approval form")
		}
	case kindRedirectError, kindRedirect:
		if loc == "" {
			fail("no Location; want a redirect\n%s", body)
			break
		}
		target := want.to
		if target == "" {
			target = redirectURI
		}
		u := mustParse(f.t, loc)
		base, _, _ := strings.Cut(loc, "#")
		base, _, _ = strings.Cut(base, "?")
		if base != target {
			fail("redirect to %q; want %q", base, target)
		}
		q := u.Query()
		if u.Fragment != "" {
			q, _ = url.ParseQuery(u.Fragment)
		}
		if want.kind == kindRedirectError {
			if got := q.Get("error"); got != want.code {
				fail("redirect error %q; want %q (%s)", got, want.code, loc)
			}
			if q.Has("code") || q.Has("id_token") || q.Has("access_token") {
				fail("an error redirect carries a credential: %s", loc)
			}
			if q.Get("iss") != f.issuer {
				fail("iss %q; want %q (RFC 9207)", q.Get("iss"), f.issuer)
			}
		} else if q.Has("error") {
			fail("redirect with error %q; want none", q.Get("error"))
		}
	case kindFormPostError:
		m := formAction.FindStringSubmatch(p.body)
		if m == nil {
			fail("no form_post form:\n%s", body)
			break
		}
		target := want.to
		if target == "" {
			target = redirectURI
		}
		if got := html.UnescapeString(m[1]); got != target {
			fail("form_post to %q; want %q", got, target)
		}
		fields := url.Values{}
		for _, in := range formInput.FindAllStringSubmatch(p.body, -1) {
			fields.Set(in[1], html.UnescapeString(in[2]))
		}
		if fields.Get("error") != want.code {
			fail("form_post error %q; want %q", fields.Get("error"), want.code)
		}
		if fields.Has("code") {
			fail("an error form_post carries a code")
		}
	case kindLoginPage:
		if !isHTML || !strings.Contains(p.body, `name="password"`) {
			fail("want the login form:\n%s", body)
		}
	case kindConsentPage:
		if !isHTML || !strings.Contains(p.body, `name="approve"`) {
			fail("want the approval page:\n%s", body)
		}
	case kindJSON:
		if !isJSON {
			fail("Content-Type %q; want JSON\n%s", ctype, body)
		}
	case kindEmpty:
		if strings.TrimSpace(p.body) != "" {
			fail("body %q; want none", body)
		}
	case kindTransport:
	}
	if want.check != nil {
		if msg := want.check(f, p); msg != "" {
			fail("%s", msg)
		}
	}
	return out
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)

// responseParamNames are what the provider adds to a redirect URI.
var responseParamNames = []string{"code", "state", "iss", "error", "error_description", "id_token", "access_token",
	"token_type", "expires_in", "scope", "session_state"}

// unregisteredTarget explains why a redirect target is not one the
// provider may send a browser to: a registered URI (or the case's expected
// loopback variant), exactly, plus only the provider's own parameters.
func unregisteredTarget(f *fixture, target, expected string) string {
	if target == "" {
		return ""
	}
	base, fragment, _ := strings.Cut(target, "#")
	base, query, _ := strings.Cut(base, "?")
	allowed := []string{redirectURI, logoutURI}
	if expected != "" {
		allowed = append(allowed, expected)
	}
	if !slices.Contains(allowed, base) {
		return fmt.Sprintf("%q goes to an unregistered URI", target)
	}
	for _, part := range []string{query, fragment} {
		v, err := url.ParseQuery(part)
		if err != nil {
			return fmt.Sprintf("%q: unparsable parameters", target)
		}
		for k := range v {
			if !slices.Contains(responseParamNames, k) {
				return fmt.Sprintf("%q carries a parameter %q the provider did not add", target, k)
			}
		}
	}
	return ""
}

// secretParamNames are the request parameters whose values are secrets.
var secretParamNames = []string{"password", "client_secret", "code", "code_verifier", "refresh_token", "access_token",
	"token", "id_token_hint", "csrf", "req"}

// requestSecrets are the credentials a request carries: secret
// parameters, the Authorization header and cookies. Values under 8 bytes
// are skipped (too short to tell from ordinary log text).
func requestSecrets(req *http.Request) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	values := req.URL.Query()
	if req.GetBody != nil && strings.HasPrefix(req.Header.Get("Content-Type"), formType) {
		if rc, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(rc)
			if form, err := url.ParseQuery(string(b)); err == nil {
				for k, v := range form {
					values[k] = append(values[k], v...)
				}
			}
		}
	}
	for _, name := range secretParamNames {
		for _, v := range values[name] {
			add(v)
		}
	}
	for _, h := range req.Header.Values("Authorization") {
		_, cred, _ := strings.Cut(h, " ")
		add(cred)
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if _, secret, ok := strings.Cut(string(raw), ":"); ok {
				add(secret)
			}
		}
	}
	for _, ck := range req.Cookies() {
		add(ck.Value)
	}
	return out
}

// secretsInLog reports each secret that appears in the log, raw or in the
// escaped forms a JSON or text handler would write it.
func secretsInLog(log string, secrets []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) < 8 || seen[s] {
			continue
		}
		seen[s] = true
		quoted, _ := json.Marshal(s)
		forms := []string{s, string(quoted[1 : len(quoted)-1]), url.QueryEscape(s)}
		for _, form := range forms {
			if strings.Contains(log, form) {
				shown := s
				if len(shown) > 24 {
					shown = shown[:24] + "…"
				}
				out = append(out, fmt.Sprintf("the log holds a secret (%q)", shown))
				break
			}
		}
	}
	return out
}

// TestHostileChecks proves the suite's own checks catch what they look for.
func TestHostileChecks(t *testing.T) {
	if got := secretsInLog(`{"cause":"token \"abcdefgh-secret\""}`, []string{"abcdefgh-secret"}); len(got) != 1 {
		t.Errorf("a secret in the log was not found: %v", got)
	}
	if got := secretsInLog(`{"msg":"fine"}`, []string{"abcdefgh-secret", "short"}); len(got) != 0 {
		t.Errorf("found secrets that are not there: %v", got)
	}
	f := newFixture(t)
	for _, target := range []string{"https://evil.example/cb?code=x", redirectURI + "?code=x&next=evil", "http://evil@127.0.0.1:5555/callback",
		redirectURI + "/", redirectURI + "#code=x&x=1"} {
		if unregisteredTarget(f, target, "") == "" {
			t.Errorf("%q passed as a registered target", target)
		}
	}
	for _, target := range []string{"", redirectURI + "?code=x&state=s&iss=i", redirectURI + "#error=access_denied", logoutURI + "?state=s"} {
		if msg := unregisteredTarget(f, target, ""); msg != "" {
			t.Errorf("%q refused: %s", target, msg)
		}
	}
}
