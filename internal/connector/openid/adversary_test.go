package openid_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/internal/connector/openid"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// adversary is an ADVERSARIAL upstream: a small server on 127.0.0.1 with
// discovery, a JWKS and a token endpoint that answers with ID tokens the
// test forges (a foreign issuer, another audience, an expired token, a
// signature by a key not in the JWKS), or with 500s and stalls. It
// exists because a real OpenID Provider does not misbehave on demand; the
// successful case proves it is otherwise a correct upstream.
type adversary struct {
	srv        *httptest.Server
	issuer     string
	key, other *rsa.PrivateKey

	mu      sync.Mutex
	nonce   string
	forge   func(claims map[string]any) // edits the ID token's claims
	signer  *rsa.PrivateKey             // signs the ID token (nil: key)
	token   int                         // a status for the token endpoint (0: 200)
	jwks    int                         // a status for the JWKS (0: 200)
	stall   time.Duration               // the token endpoint's delay
	lastReq url.Values
}

var advKey, advOther = mustRSA(), mustRSA()

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func newAdversary(t *testing.T) *adversary {
	a := &adversary{key: advKey, other: advOther}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"issuer": a.issuer, "authorization_endpoint": a.issuer + "/authorize",
			"token_endpoint": a.issuer + "/token", "jwks_uri": a.issuer + "/jwks", "userinfo_endpoint": a.issuer + "/userinfo",
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		status := a.jwks
		a.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &a.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", a.serveToken)
	a.srv = httptest.NewServer(mux)
	a.issuer = a.srv.URL
	t.Cleanup(a.srv.Close)
	return a
}

func (a *adversary) serveToken(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a.mu.Lock()
	a.lastReq = r.PostForm
	status, stall, forge, signer := a.token, a.stall, a.forge, a.signer
	claims := map[string]any{"iss": a.issuer, "sub": "user-1", "aud": connectortest.ClientID, "nonce": a.nonce,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
		"name": "Mallory", "email": "m@example.com", "email_verified": true}
	a.mu.Unlock()
	if stall > 0 {
		select {
		case <-time.After(stall):
		case <-r.Context().Done():
		}
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if forge != nil {
		forge(claims)
	}
	if signer == nil {
		signer = a.key
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: signer, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	idToken, _ := jws.CompactSerialize()
	writeJSON(w, map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// callback runs LoginURL against the adversary and HandleCallback with a
// code, as if the browser came back.
func (a *adversary) callback(t *testing.T, k *openid.Connector) (oidc.Identity, error) {
	t.Helper()
	loginURL, data, err := k.LoginURL(t.Context(), oidc.ConnectorScopes{}, connectortest.CallbackURL, "s")
	if err != nil {
		return oidc.Identity{}, err
	}
	a.mu.Lock()
	a.nonce = mustQuery(t, loginURL).Get("nonce")
	a.mu.Unlock()
	cb, _ := url.Parse(connectortest.CallbackURL + "?code=c-1&state=s")
	return k.HandleCallback(t.Context(), oidc.ConnectorScopes{}, data, connectortest.CallbackRequest(t, cb))
}

func (a *adversary) open(t *testing.T, timeout time.Duration) *openid.Connector {
	t.Helper()
	k, err := openid.New(openid.Config{Issuer: a.issuer, ClientID: connectortest.ClientID, ClientSecret: connectortest.ClientSecret},
		connectortest.Env("adversary", timeout))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestAdversarialIDTokens: every forged ID token is refused; the honest
// one passes, with the PKCE verifier sent.
func TestAdversarialIDTokens(t *testing.T) {
	tests := []struct {
		name   string
		forge  func(map[string]any)
		other  bool // signed by a key not in the JWKS
		reason string
	}{
		{name: "honest"},
		{name: "bad signature", other: true, reason: "not valid"},
		{name: "foreign iss", forge: func(c map[string]any) { c["iss"] = "https://evil.example.com" }, reason: "not valid"},
		{name: "expired", forge: func(c map[string]any) {
			c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		}, reason: "not valid"},
		{name: "wrong aud", forge: func(c map[string]any) { c["aud"] = "another-client" }, reason: "not valid"},
		{name: "no nonce", forge: func(c map[string]any) { delete(c, "nonce") }, reason: "nonce"},
		{name: "at_hash mismatch", forge: func(c map[string]any) { c["at_hash"] = "bm90IHRoZSBoYXNo" }, reason: "at_hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAdversary(t)
			a.forge = tt.forge
			if tt.other {
				a.signer = a.other
			}
			id, err := a.callback(t, a.open(t, 2*time.Second))
			if tt.reason == "" {
				if err != nil || id.UserID != "user-1" || id.Username != "Mallory" {
					t.Fatalf("honest upstream: %+v, %v", id, err)
				}
				if a.lastReq.Get("code_verifier") == "" || a.lastReq.Get("client_secret") != "" {
					t.Errorf("token request %v: want a code_verifier and client_secret_basic", a.lastReq)
				}
				return
			}
			wantUpstreamError(t, err, tt.reason)
		})
	}
}

// TestUpstreamUnavailable: a stalled or failing upstream is
// ErrUnavailable, never a user-facing refusal.
func TestUpstreamUnavailable(t *testing.T) {
	tests := []struct {
		name string
		set  func(*adversary)
	}{
		{"token timeout", func(a *adversary) { a.stall = 2 * time.Second }},
		{"token 500", func(a *adversary) { a.token = http.StatusInternalServerError }},
		{"token 503", func(a *adversary) { a.token = http.StatusServiceUnavailable }},
		{"jwks 500", func(a *adversary) { a.jwks = http.StatusInternalServerError }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAdversary(t)
			tt.set(a)
			_, err := a.callback(t, a.open(t, 300*time.Millisecond))
			if !errors.Is(err, oidc.ErrUnavailable) {
				t.Errorf("got %v; want ErrUnavailable", err)
			}
		})
	}
	t.Run("discovery down", func(t *testing.T) {
		a := newAdversary(t)
		k := a.open(t, 300*time.Millisecond)
		a.srv.Close()
		if _, _, err := k.LoginURL(t.Context(), oidc.ConnectorScopes{}, connectortest.CallbackURL, "s"); !errors.Is(err, oidc.ErrUnavailable) {
			t.Errorf("LoginURL with the upstream down: %v; want ErrUnavailable", err)
		}
	})
}
