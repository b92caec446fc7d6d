package oauth_test

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
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/connector/oauth"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// The upstream of these tests is a real OAuth 2.0 server: this provider
// itself, in process on 127.0.0.1, with the memory store and a local
// key. The connector uses its /authorize, /token and /userinfo.

const (
	callbackURL    = "https://id.example.com/callback" // the downstream provider's; never contacted
	upstreamClient = "downstream-provider"
	upstreamSecret = "ZG93bnN0cmVhbS1wcm92aWRlci1zZWNyZXQ"
	adaID          = "0b8e6a52-ada"
	adaEmail       = "ada@example.com"
	adaPassword    = "correct horse battery staple"
)

var signer, _ = local.Generate()

// upstream is the provider the connector logs in at.
type upstream struct {
	t      *testing.T
	url    string
	store  *memory.Store
	fail   atomic.Int32 // when set, /token and /userinfo answer this status
	delay  atomic.Int64 // nanoseconds before every answer
	client *http.Client
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	u := &upstream{t: t, url: "http://" + srv.Listener.Addr().String(), store: memory.New(time.Now),
		client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 5 * time.Second}}
	u.store.PutClient(oidc.Client{ID: upstreamClient, Name: "Downstream", SecretHash: oidc.HashSecret(upstreamSecret), RedirectURIs: []string{callbackURL}})
	hash, _ := bcrypt.GenerateFromPassword([]byte(adaPassword), bcrypt.MinCost)
	u.putUser(oidc.User{Subject: adaID, Email: adaEmail, EmailVerified: true, Username: "ada", Name: "Ada Lovelace",
		Groups: []string{"admins"}, PasswordHash: hash})
	p, err := oidc.New(oidc.Config{
		Settings: oidc.Settings{Issuer: u.url, Now: time.Now, Logger: slog.New(slog.DiscardHandler),
			RefreshTokens: oidc.RefreshPolicy{ValidIfNotUsedFor: time.Hour, AbsoluteLifetime: 24 * time.Hour}},
		Clients: u.store, Users: u.store, AuthRequests: u.store, Codes: u.store, Refresh: u.store,
		Revocations: u.store, Sessions: u.store, Consents: u.store, Attempts: u.store, Signer: signer,
	})
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	h := p.Handler()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(u.delay.Load()))
		if s := int(u.fail.Load()); s != 0 && (r.URL.Path == oidc.PathToken || r.URL.Path == oidc.PathUserInfo) {
			w.WriteHeader(s)
			return
		}
		h.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return u
}

func (u *upstream) putUser(usr oidc.User) {
	if err := u.store.PutUser(context.Background(), usr); err != nil {
		u.t.Fatalf("PutUser: %v", err)
	}
}

// config is the connector's configuration for this upstream.
func (u *upstream) config() oauth.Config {
	return oauth.Config{ClientID: upstreamClient, ClientSecret: upstreamSecret,
		AuthorizationURL: u.url + oidc.PathAuthorize, TokenURL: u.url + oidc.PathToken, UserInfoURL: u.url + oidc.PathUserInfo,
		Scopes: []string{"openid", "profile", "email", "groups", "offline_access"}, UserIDKey: "sub",
		ClaimMapping: oauth.ClaimMapping{UserNameKey: "name"}}
}

func (u *upstream) connector(cfg oauth.Config, timeout time.Duration) *oauth.Connector {
	u.t.Helper()
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: timeout}
	c, err := oauth.New(cfg, connector.Env{ID: "upstream", CallbackURL: callbackURL, HTTPClient: client})
	if err != nil {
		u.t.Fatalf("New: %v", err)
	}
	return c
}

var hiddenField = regexp.MustCompile(`name="(req|csrf)" value="([^"]*)"`)

// browser logs in at the upstream as a browser does, from the
// connector's login URL to the redirect back to the callback, which it
// returns without following. approve false declines at the consent page.
func (u *upstream) browser(loginURL string, approve bool) string {
	u.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Transport: u.client.Transport, Jar: jar, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status, loc, body := u.send(b, http.MethodGet, loginURL, nil)
	if status != http.StatusOK {
		u.t.Fatalf("GET /authorize: status %d: %s", status, body)
	}
	form := fields(u.t, body)
	form.Set("login", adaEmail)
	form.Set("password", adaPassword)
	status, loc, body = u.send(b, http.MethodPost, u.url+oidc.PathLogin, form)
	if status == http.StatusOK && strings.Contains(body, `name="approve"`) {
		form = fields(u.t, body)
		if approve {
			form.Set("approve", "1")
		}
		status, loc, body = u.send(b, http.MethodPost, u.url+oidc.PathConsent, form)
	}
	if status != http.StatusSeeOther && status != http.StatusFound || !strings.HasPrefix(loc, callbackURL+"?") {
		u.t.Fatalf("login: status %d, Location %q: %s", status, loc, body)
	}
	return loc
}

func (u *upstream) send(b *http.Client, method, target string, form url.Values) (int, string, string) {
	u.t.Helper()
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
		u.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(data)
}

func fields(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("req") == "" || v.Get("csrf") == "" {
		t.Fatalf("no req and csrf fields in:\n%s", page)
	}
	return v
}

// callback is the request the core hands HandleCallback: the redirect
// URL, its form parsed.
func callback(t *testing.T, loc string) *http.Request {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, loc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	return r
}

// login runs a whole login through the upstream.
func (u *upstream) login(c *oauth.Connector, s oidc.ConnectorScopes) (oidc.Identity, error) {
	u.t.Helper()
	loginURL, data, err := c.LoginURL(u.t.Context(), s, callbackURL, "state-1")
	if err != nil {
		u.t.Fatalf("LoginURL: %v", err)
	}
	r := callback(u.t, u.browser(loginURL, true))
	if r.FormValue("state") != "state-1" {
		u.t.Errorf("state %q; want it unchanged", r.FormValue("state"))
	}
	return c.HandleCallback(u.t.Context(), s, data, r)
}
