package oidc_test

import (
	"context"
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
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
	"golang.org/x/crypto/bcrypt"
)

// The test harness: a provider on a loopback httptest server with the
// memory store, a real RSA key, a controllable clock, and a browser-like
// HTTP client that keeps cookies and stops at the client's redirect URI.

// userSubject is the sub of userID: Dex's encoding with the local connector.
var userSubject = oidc.Subject(userID, oidc.ConnectorLocal)

const (
	confidentialID     = "example-app"
	confidentialSecret = "ZXhhbXBsZS1hcHAtc2VjcmV0"
	publicID           = "example-cli"
	otherID            = "other-app"
	otherSecret        = "b3RoZXItYXBwLXNlY3JldA"
	redirectURI        = "http://127.0.0.1:5555/callback"
	userEmail          = "admin@example.com"
	userPassword       = "password"
	userID             = "08a8684b-db88-4b73-90a9-3cd1661f5466" // the password database's userID
)

var passwordHash, _ = bcrypt.GenerateFromPassword([]byte(userPassword), bcrypt.MinCost)

// testSigner is shared: RSA key generation is slow.
var testSigner, _ = local.Generate() // RS256 and ES256

type env struct {
	t        testing.TB
	srv      *httptest.Server
	issuer   string
	clock    *oidctest.Clock
	store    *memory.Store
	provider *oidc.Provider
}

func newEnv(t testing.TB, opts ...func(*oidc.Config)) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	clock := oidctest.NewClock()
	store := memory.New(clock.Now)
	store.PutClient(oidc.Client{ID: confidentialID, Name: "Example App", SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}})
	store.PutClient(oidc.Client{ID: publicID, Name: "Example CLI", Public: true, RedirectURIs: []string{redirectURI}})
	store.PutClient(oidc.Client{ID: otherID, SecretHash: oidc.HashSecret(otherSecret), RedirectURIs: []string{redirectURI}})
	putUser(t, store, oidc.User{Subject: userID, Email: userEmail, EmailVerified: true, Username: "admin", Name: "Admin", Groups: []string{"admins"}, PasswordHash: passwordHash})
	cfg := oidc.Config{
		Settings:       oidc.Settings{Issuer: issuer, RefreshTokens: oidc.RefreshPolicy{ValidIfNotUsedFor: 720 * time.Hour, AbsoluteLifetime: 2160 * time.Hour, ReuseInterval: 3 * time.Second}, Now: clock.Now, AllowedOrigins: []string{"http://127.0.0.1:3000"}, Logger: slog.New(slog.DiscardHandler)},
		Clients:        store,
		Users:          store,
		AuthRequests:   store,
		Codes:          store,
		Refresh:        store,
		Revocations:    store,
		Sessions:       store,
		Consents:       store,
		Attempts:       store,
		Devices:        store,
		Replays:        store,
		Signer:         testSigner,
		PushedRequests: store,
	}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := oidc.New(cfg)
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, issuer: issuer, clock: clock, store: store, provider: p}
}

// testTransport carries every request of these tests. It is not
// http.DefaultTransport, whose idle connections every httptest.Server.Close
// closes: with tests in parallel, that would fail another test's request
// in flight ("CloseIdleConnections called").
var testTransport = http.DefaultTransport.(*http.Transport).Clone()

// testClient is testClient on testTransport.
var testClient = &http.Client{Transport: testTransport}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so each step of a flow can be inspected.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Transport:     testTransport,
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// authParams is a valid authorization request for the confidential client.
func authParams() url.Values {
	return url.Values{
		"client_id":     {confidentialID},
		"redirect_uri":  {redirectURI},
		"response_type": {"code"},
		"scope":         {"openid email profile groups"},
		"state":         {"xyz-state"},
		"nonce":         {"n-0S6_WzA2Mj"},
	}
}

func pkcePair() (verifier, challenge string) {
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-pkce-verifier"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

type page struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(c *http.Client, req *http.Request) page {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (e *env) get(c *http.Client, path string, q url.Values) page {
	e.t.Helper()
	u := e.issuer + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return e.do(c, req)
}

func (e *env) postForm(c *http.Client, path string, form url.Values) page {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(c, req)
}

var hiddenField = regexp.MustCompile(`name="(req|csrf)" value="([^"]*)"`)

// formFields extracts the hidden req and csrf fields of a login or consent page.
func formFields(t testing.TB, p page) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(p.body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("req") == "" || v.Get("csrf") == "" {
		t.Fatalf("no form fields in page (status %d):\n%s", p.status, p.body)
	}
	return v
}

// login walks the login form (and the consent page, if shown) and returns
// the final redirect to the client.
func (e *env) login(c *http.Client, params url.Values) *url.URL {
	e.t.Helper()
	p := e.get(c, oidc.PathAuthorize, params)
	if p.status != http.StatusOK {
		e.t.Fatalf("GET /authorize: status %d:\n%s", p.status, p.body)
	}
	p = e.completeLogin(c, p)
	if p.status != http.StatusSeeOther {
		e.t.Fatalf("login: status %d; want 303:\n%s", p.status, p.body)
	}
	return mustParse(e.t, p.header.Get("Location"))
}

// completeLogin submits the login form of page p and approves the consent
// page if one follows; it returns the final answer.
func (e *env) completeLogin(c *http.Client, p page) page {
	e.t.Helper()
	form := formFields(e.t, p)
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	p = e.postForm(c, oidc.PathLogin, form)
	if p.status == http.StatusOK && strings.Contains(p.body, `name="approve"`) {
		consent := formFields(e.t, p)
		consent.Set("approve", "1")
		p = e.postForm(c, oidc.PathConsent, consent)
	}
	return p
}

// code runs a full login and returns the authorization code.
func (e *env) code(params url.Values) string {
	e.t.Helper()
	loc := e.login(e.browser(), params)
	code := loc.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in redirect %s", loc)
	}
	return code
}

// token posts to the token endpoint; basic selects client_secret_basic.
func (e *env) token(form url.Values, basicID, basicSecret string) (int, map[string]any, http.Header) {
	e.t.Helper()
	status, body, header, err := e.tryToken(form, basicID, basicSecret)
	if err != nil {
		e.t.Fatal(err)
	}
	return status, body, header
}

// tryToken is token for other goroutines than the test's: it returns
// errors instead of failing the test (FailNow must not run off the test's
// goroutine).
func (e *env) tryToken(form url.Values, basicID, basicSecret string) (int, map[string]any, http.Header, error) {
	req, _ := http.NewRequest(http.MethodPost, e.issuer+oidc.PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := testClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, nil, nil, fmt.Errorf("token response is not JSON: %w", err)
	}
	return resp.StatusCode, body, resp.Header, nil
}

func mustParse(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u
}

var (
	formInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	oobCode   = regexp.MustCompile(`<code class="code">([^<]+)</code>`)
)

func htmlUnescape(s string) string { return html.UnescapeString(s) }

// putUser adds or replaces a user of the memory store.
func putUser(t testing.TB, s *memory.Store, u oidc.User) {
	t.Helper()
	if err := s.PutUser(context.Background(), u); err != nil {
		t.Fatalf("PutUser: %v", err)
	}
}

// barrier holds its first n arrivals until all n have arrived, then lets
// everyone through: it makes concurrent requests read the same state before
// any of them writes, so a race the code must win is really run.
type barrier struct {
	n       int32
	arrived atomic.Int32
	open    chan struct{}
	once    sync.Once
}

func newBarrier(n int) *barrier { return &barrier{n: int32(n), open: make(chan struct{})} }

func (b *barrier) arrive() {
	if b.arrived.Add(1) >= b.n {
		b.once.Do(func() { close(b.open) })
	}
	select {
	case <-b.open:
	case <-time.After(20 * time.Second): // a failsafe, never the expected path
	}
}

// racingStore makes Code and RefreshGrant wait at a barrier.
type racingStore struct {
	*memory.Store
	codes, grants *barrier
}

func (s racingStore) Code(ctx context.Context, id string) (oidc.AuthCode, error) {
	if s.codes != nil {
		s.codes.arrive()
	}
	return s.Store.Code(ctx, id)
}

func (s racingStore) RefreshGrant(ctx context.Context, id string) (oidc.RefreshGrant, error) {
	if s.grants != nil {
		s.grants.arrive()
	}
	return s.Store.RefreshGrant(ctx, id)
}

func stringList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// accessToken runs a login and code exchange and returns the token response.
func (e *env) tokens() map[string]any {
	code, verifier := e.pkceCode(confidentialID)
	status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
	if status != 200 {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return body
}

func (e *env) userinfo(method, header, formToken string) page {
	var req *http.Request
	if method == http.MethodPost {
		req, _ = http.NewRequest(method, e.issuer+oidc.PathUserInfo, strings.NewReader(url.Values{"access_token": {formToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, e.issuer+oidc.PathUserInfo, nil)
	}
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	return e.do(testClient, req)
}

// forgeToken signs a well-formed access token with a key the provider never
// published.
func forgeToken(t *testing.T, issuer, sub string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": issuer, "sub": sub, "aud": issuer + "/userinfo", "exp": time.Now().Add(time.Hour).Unix(), "scope": "openid email",
	})
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = "forged"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tamper(token string) string {
	parts := strings.Split(token, ".")
	parts[1] = parts[1][:len(parts[1])-2] + "AA"
	return strings.Join(parts, ".")
}

type recorder struct {
	header http.Header
	status int
}

func newRecorder() *recorder                    { return &recorder{header: http.Header{}, status: 200} }
func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(s int)           { r.status = s }
