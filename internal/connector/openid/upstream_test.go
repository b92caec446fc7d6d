package openid_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/connector/openid"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// The real upstream of these tests is this provider itself, in process:
// pkg/oidc with the memory store and a local key, on a loopback
// httptest server. The connector is registered there as a confidential
// client whose redirect URI is the downstream's callback, which is never
// served: the browser's redirect to it is captured and handed to
// HandleCallback, as the core would.

const (
	clientID     = "downstream"
	clientSecret = "ZG93bnN0cmVhbS1zZWNyZXQtdmFsdWU"
	callbackURL  = "http://127.0.0.1:5556/callback"
	userSubject  = "0d8c3b7e-5c2f-4a8e-9b1d-ada"
	userEmail    = "ada@example.com"
	userPassword = "correct horse battery staple"
)

var (
	passwordHash, _   = bcrypt.GenerateFromPassword([]byte(userPassword), bcrypt.MinCost)
	upstreamSigner, _ = local.Generate()
	// transport is not http.DefaultTransport, whose idle connections every
	// httptest.Server.Close closes under parallel tests.
	transport = http.DefaultTransport.(*http.Transport).Clone()
)

// upstream is this provider running as the upstream OpenID Provider.
type upstream struct {
	issuer string
	store  *memory.Store
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	store := memory.New(time.Now)
	store.PutClient(oidc.Client{ID: clientID, Name: "Downstream", SecretHash: oidc.HashSecret(clientSecret), RedirectURIs: []string{callbackURL}})
	u := &upstream{issuer: issuer, store: store}
	u.putUser(t, []string{"admins", "staff"}, true)
	p, err := oidc.New(oidc.Config{
		Settings: oidc.Settings{Issuer: issuer, Logger: slog.New(slog.DiscardHandler),
			RefreshTokens: oidc.RefreshPolicy{ValidIfNotUsedFor: 720 * time.Hour, AbsoluteLifetime: 2160 * time.Hour}},
		Clients: store, Users: store, AuthRequests: store, Codes: store, Refresh: store,
		Revocations: store, Sessions: store, Consents: store, Attempts: store, Signer: upstreamSigner,
	})
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return u
}

// putUser adds or replaces the test user at the upstream.
func (u *upstream) putUser(t *testing.T, groups []string, verified bool) {
	t.Helper()
	err := u.store.PutUser(context.Background(), oidc.User{Subject: userSubject, Email: userEmail, EmailVerified: verified,
		Username: "ada", Name: "Ada Lovelace", Groups: groups, PasswordHash: passwordHash})
	if err != nil {
		t.Fatalf("PutUser: %v", err)
	}
}

// config is a connector config for this upstream.
func (u *upstream) config() openid.Config {
	return openid.Config{Issuer: u.issuer, ClientID: clientID, ClientSecret: clientSecret, InsecureEnableGroups: true,
		Scopes: []string{"profile", "email"}}
}

// open builds the connector as the core does.
func open(t *testing.T, c openid.Config) *openid.Connector {
	t.Helper()
	k, err := openid.New(c, connector.Env{ID: "upstream", CallbackURL: callbackURL,
		HTTPClient: &http.Client{Transport: transport, Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return k
}

var hiddenField = regexp.MustCompile(`name="(req|csrf)" value="([^"]*)"`)

func formFields(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("req") == "" || v.Get("csrf") == "" {
		t.Fatalf("no form fields in page:\n%s", body)
	}
	return v
}

// browse signs the user in at the upstream from loginURL, approving (or,
// with deny, declining) consent, and returns the redirect to the callback,
// not followed.
func browse(t *testing.T, loginURL string, deny bool) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Transport: transport, Jar: jar, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, target string, form url.Values) (int, http.Header, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := b.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(text)
	}
	status, _, body := do(http.MethodGet, loginURL, nil)
	if status != http.StatusOK {
		t.Fatalf("GET authorize: status %d:\n%s", status, body)
	}
	origin := loginURL[:strings.Index(loginURL, oidc.PathAuthorize)]
	form := formFields(t, body)
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	status, header, body := do(http.MethodPost, origin+oidc.PathLogin, form)
	if status == http.StatusOK && strings.Contains(body, `name="approve"`) {
		consent := formFields(t, body)
		if deny {
			consent.Set("deny", "1")
		} else {
			consent.Set("approve", "1")
		}
		status, header, body = do(http.MethodPost, origin+oidc.PathConsent, consent)
	}
	loc := header.Get("Location")
	if status != http.StatusSeeOther && status != http.StatusFound || !strings.HasPrefix(loc, callbackURL) {
		t.Fatalf("login: status %d, Location %q; want a redirect to the callback:\n%s", status, loc, body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// callbackRequest is the core's callback request for u, form parsed.
func callbackRequest(t *testing.T, u *url.URL) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, u.String(), nil)
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	return r
}

// login runs a whole login through k: LoginURL, the upstream's pages,
// HandleCallback.
func login(t *testing.T, k *openid.Connector, s oidc.ConnectorScopes) (oidc.Identity, error) {
	t.Helper()
	loginURL, data, err := k.LoginURL(t.Context(), s, callbackURL, "state-123")
	if err != nil {
		t.Fatalf("LoginURL: %v", err)
	}
	cb := browse(t, loginURL, false)
	if got := cb.Query().Get("state"); got != "state-123" {
		t.Fatalf("state %q; want it passed through", got)
	}
	return k.HandleCallback(t.Context(), s, data, callbackRequest(t, cb))
}
