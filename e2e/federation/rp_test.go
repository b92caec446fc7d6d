package federation

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// The relying party is a Go web application of the kind the provider
// serves: golang.org/x/oauth2 for the authorization code flow with PKCE
// (RFC 7636, S256) and go-oidc to verify ID tokens, on a loopback port.

// rpScopes are what the RP asks the downstream for: the federated claims
// (Dex's federated:id), groups, and a refresh token.
var rpScopes = []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopeProfile, oidc.ScopeGroups,
	oidc.ScopeFederatedID, oidc.ScopeOfflineAccess}

// rpClient is the RP's registration at the downstream.
type rpClient struct {
	ID, Name, Secret, RedirectURI string
}

// idClaims are the ID token claims the tests check.
type idClaims struct {
	Subject       string   `json:"sub"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
	Federated     struct {
		ConnectorID string `json:"connector_id"`
		UserID      string `json:"user_id"`
	} `json:"federated_claims"`
}

// rpResult is how one login ended at the RP's callback.
type rpResult struct {
	Token  *oauth2.Token
	Claims idClaims
	Err    error
}

// pendingLogin is what the RP keeps between its redirect and the callback.
type pendingLogin struct{ verifier, nonce string }

// relyingParty is the RP. Its callback page says "Signed in as <email>"
// (#done) or shows the error (#error).
type relyingParty struct {
	client   rpClient
	origin   string
	http     *http.Client
	issuer   string
	oauth2   oauth2.Config
	verifier *gooidc.IDTokenVerifier

	mu      sync.Mutex
	pending map[string]pendingLogin // by state
	results chan rpResult
}

// startRP serves the RP on 127.0.0.1; connect points it at the downstream
// once that serves (its redirect URI has to be in the downstream's config
// first).
func startRP(t *testing.T) *relyingParty {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	rp := &relyingParty{origin: "http://" + srv.Listener.Addr().String(), pending: map[string]pendingLogin{},
		results: make(chan rpResult, 4),
		http:    &http.Client{Transport: newTransport(), Timeout: 10 * time.Second}}
	rp.client = rpClient{ID: "federation-rp", Name: "Federation RP", Secret: randomString(t), RedirectURI: rp.origin + "/callback"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", rp.login)
	mux.HandleFunc("GET /callback", rp.callback)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return rp
}

// connect discovers the downstream with go-oidc.
func (rp *relyingParty) connect(t *testing.T, issuer string) {
	t.Helper()
	p, err := gooidc.NewProvider(rp.ctx(t.Context()), issuer)
	if err != nil {
		t.Fatalf("RP discovery of the downstream: %v", err)
	}
	rp.issuer = issuer
	rp.oauth2 = oauth2.Config{ClientID: rp.client.ID, ClientSecret: rp.client.Secret, Endpoint: p.Endpoint(),
		RedirectURL: rp.client.RedirectURI, Scopes: rpScopes}
	rp.verifier = p.Verifier(&gooidc.Config{ClientID: rp.client.ID})
}

// ctx makes oauth2 and go-oidc use the RP's HTTP client.
func (rp *relyingParty) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, rp.http)
}

// loginURL is where a browser starts a login at the RP.
func (rp *relyingParty) loginURL() string { return rp.origin + "/login" }

// login sends the browser to the downstream's authorization endpoint with
// a fresh state, nonce and PKCE verifier.
func (rp *relyingParty) login(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	rp.mu.Lock()
	rp.pending[state] = pendingLogin{verifier: verifier, nonce: nonce}
	rp.mu.Unlock()
	http.Redirect(w, r, rp.oauth2.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)), http.StatusFound)
}

// callback completes the login and reports the result to the test.
func (rp *relyingParty) callback(w http.ResponseWriter, r *http.Request) {
	res := rp.complete(r)
	select {
	case rp.results <- res:
	default: // the test takes one result per login; more is a failure it sees as a missing one
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if res.Err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "<!doctype html><title>RP</title><p id=error>%s</p>", html.EscapeString(res.Err.Error()))
		return
	}
	fmt.Fprintf(w, "<!doctype html><title>RP</title><p id=done>Signed in as %s</p>", html.EscapeString(res.Claims.Email))
}

// complete checks the authorization response (state, RFC 9207 iss),
// exchanges the code with its verifier, and verifies the ID token and
// its nonce.
func (rp *relyingParty) complete(r *http.Request) rpResult {
	q := r.URL.Query()
	state := q.Get("state")
	rp.mu.Lock()
	p, ok := rp.pending[state]
	delete(rp.pending, state)
	rp.mu.Unlock()
	switch {
	case !ok:
		return rpResult{Err: errors.New("unknown state")}
	case q.Get("iss") != rp.issuer:
		// RFC 9207 §2.4: a client that knows the server sends iss MUST
		// compare it to the issuer it sent the request to.
		return rpResult{Err: fmt.Errorf("iss %q; want %q", q.Get("iss"), rp.issuer)}
	case q.Get("error") != "":
		return rpResult{Err: fmt.Errorf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))}
	}
	ctx := rp.ctx(r.Context())
	tok, err := rp.oauth2.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		return rpResult{Err: fmt.Errorf("exchange: %w", err)}
	}
	claims, idt, err := rp.verify(ctx, tok)
	if err != nil {
		return rpResult{Err: err}
	}
	if idt.Nonce != p.nonce {
		return rpResult{Err: errors.New("the ID token's nonce is not the request's")}
	}
	return rpResult{Token: tok, Claims: claims}
}

// verify verifies the token response's ID token with go-oidc.
func (rp *relyingParty) verify(ctx context.Context, tok *oauth2.Token) (idClaims, *gooidc.IDToken, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return idClaims{}, nil, errors.New("the token response has no id_token")
	}
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		return idClaims{}, nil, fmt.Errorf("verify the ID token: %w", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return idClaims{}, nil, err
	}
	return c, idt, nil
}

// result waits for the outcome of the login the browser (or the HTTP
// client) took through the RP's callback.
func (rp *relyingParty) result(t *testing.T) rpResult {
	t.Helper()
	select {
	case res := <-rp.results:
		return res
	case <-time.After(stepTimeout):
		t.Fatalf("the RP's callback was not called within %v", stepTimeout)
		return rpResult{}
	}
}

// refresh uses refreshToken through oauth2's TokenSource, as an RP whose
// access token expired does, and verifies the new ID token; its sub MUST
// be the login's (OpenID Connect Core §12.2).
func (rp *relyingParty) refresh(ctx context.Context, refreshToken string) (*oauth2.Token, idClaims, error) {
	ctx = rp.ctx(ctx)
	expired := &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Minute)}
	tok, err := rp.oauth2.TokenSource(ctx, expired).Token()
	if err != nil {
		return nil, idClaims{}, err
	}
	claims, _, err := rp.verify(ctx, tok)
	return tok, claims, err
}
