// Package connectortest is for the tests of connector types: it runs
// this provider in process as a real upstream (pkg/oidc with the memory
// store and a local key, on a loopback httptest server), walks its login
// pages as a browser does, and reads config sections as the core does.
package connectortest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// The connector under test is registered at the upstream as a
// confidential client whose redirect URI is the downstream's callback,
// which is never served: the browser's redirect to it is captured and
// handed to HandleCallback, as the core would.
const (
	ClientID     = "downstream"
	ClientSecret = "ZG93bnN0cmVhbS1zZWNyZXQtdmFsdWU"
	CallbackURL  = "http://127.0.0.1:5556/callback"
	// The user at the upstream; its sub there is
	// oidc.Subject(UserSubject, oidc.ConnectorLocal).
	UserSubject  = "0d8c3b7e-5c2f-4a8e-9b1d-ada"
	UserEmail    = "ada@example.com"
	UserPassword = "correct horse battery staple"
)

var (
	passwordHash, _   = bcrypt.GenerateFromPassword([]byte(UserPassword), bcrypt.MinCost)
	upstreamSigner, _ = local.Generate() // shared: key generation is slow
	// transport is not http.DefaultTransport, whose idle connections every
	// httptest.Server.Close closes under parallel tests.
	transport = http.DefaultTransport.(*http.Transport).Clone()
)

// Client is an HTTP client for a connector under test, with timeout.
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: transport, Timeout: timeout}
}

// Env is the connector.Env the core would pass, with Client(timeout).
func Env(id string, timeout time.Duration) connector.Env {
	return connector.Env{ID: id, CallbackURL: CallbackURL, HTTPClient: Client(timeout)}
}

// Upstream is this provider running as the upstream, with the user in
// groups admins and staff and a verified email.
type Upstream struct {
	URL   string // its issuer, http://127.0.0.1:port
	Store *memory.Store
	// Fail, when set, is the status /token and /userinfo answer with.
	Fail atomic.Int32
	// Delay is waited, in nanoseconds, before every answer.
	Delay atomic.Int64
}

// NewUpstream starts an upstream, closed when t ends.
func NewUpstream(t *testing.T) *Upstream {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	u := &Upstream{URL: "http://" + srv.Listener.Addr().String(), Store: memory.New(time.Now)}
	u.Store.PutClient(oidc.Client{ID: ClientID, Name: "Downstream", SecretHash: oidc.HashSecret(ClientSecret), RedirectURIs: []string{CallbackURL}})
	u.PutUser(t, []string{"admins", "staff"}, true)
	p, err := oidc.New(oidc.Config{
		Settings: oidc.Settings{Issuer: u.URL, Now: time.Now, Logger: slog.New(slog.DiscardHandler),
			RefreshTokens: oidc.RefreshPolicy{ValidIfNotUsedFor: 720 * time.Hour, AbsoluteLifetime: 2160 * time.Hour}},
		Clients: u.Store, Users: u.Store, AuthRequests: u.Store, Codes: u.Store, Refresh: u.Store,
		Revocations: u.Store, Sessions: u.Store, Consents: u.Store, Attempts: u.Store, Devices: u.Store, Signer: upstreamSigner,
	})
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	h := p.Handler()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(u.Delay.Load()))
		if s := int(u.Fail.Load()); s != 0 && (r.URL.Path == oidc.PathToken || r.URL.Path == oidc.PathUserInfo) {
			w.WriteHeader(s)
			return
		}
		h.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return u
}

// PutUser adds or replaces the user at the upstream.
func (u *Upstream) PutUser(t *testing.T, groups []string, verified bool) {
	t.Helper()
	err := u.Store.PutUser(context.Background(), oidc.User{Subject: UserSubject, Email: UserEmail, EmailVerified: verified,
		Username: "ada", Name: "Ada Lovelace", Groups: groups, PasswordHash: passwordHash})
	if err != nil {
		t.Fatalf("PutUser: %v", err)
	}
}

// Login runs a whole login through c: LoginURL, the upstream's pages
// with consent approved, and HandleCallback, checking that the state
// comes back unchanged.
func Login(t *testing.T, c oidc.CallbackConnector, s oidc.ConnectorScopes) (oidc.Identity, error) {
	t.Helper()
	loginURL, data, err := c.LoginURL(t.Context(), s, CallbackURL, "state-123")
	if err != nil {
		t.Fatalf("LoginURL: %v", err)
	}
	cb := Browse(t, loginURL, false)
	if got := cb.Query().Get("state"); got != "state-123" {
		t.Fatalf("state %q; want it passed through", got)
	}
	return c.HandleCallback(t.Context(), s, data, CallbackRequest(t, cb))
}

// Tokens logs the user in at the upstream as client id (registered there
// with CallbackURL as redirect URI) with x/oauth2, PKCE and a nonce, and
// returns the ID token and the access token: an upstream's tokens for a
// token exchange.
func (u *Upstream) Tokens(t *testing.T, id, secret string) (idToken, accessToken string) {
	t.Helper()
	cfg := oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: CallbackURL,
		Scopes:   []string{"openid", "profile", "email", "groups"},
		Endpoint: oauth2.Endpoint{AuthURL: u.URL + oidc.PathAuthorize, TokenURL: u.URL + oidc.PathToken}}
	verifier := oauth2.GenerateVerifier()
	cb := Browse(t, cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("nonce", "n-123"), oauth2.S256ChallengeOption(verifier)), false)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, Client(5*time.Second))
	tok, err := cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("upstream code exchange: %v", err)
	}
	idToken, _ = tok.Extra("id_token").(string)
	return idToken, tok.AccessToken
}
