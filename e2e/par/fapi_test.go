package par

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4"

	"github.com/serverless-oidc/op/e2e/e2etest"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
)

// fapiPush and fapiCallback are what fapi.cjs prints.
type fapiPush struct {
	RequirePAR    bool     `json:"require_par"`
	AuthMethods   []string `json:"auth_methods"`
	ResponseTypes []string `json:"response_types"`
	IDTokenAlgs   []string `json:"id_token_algs"`
	ExpiresIn     int      `json:"expires_in"`
	URL           string   `json:"url"`
}

type fapiCallback struct {
	TokenType             string `json:"token_type"`
	IDTokenAlg            string `json:"id_token_alg"`
	Sub                   string `json:"sub"`
	UserinfoSub           string `json:"userinfo_sub"`
	AccessToken           string `json:"access_token"`
	RefreshToken          string `json:"refresh_token"`
	RefreshedTokenType    string `json:"refreshed_token_type"`
	RefreshedRefreshToken string `json:"refreshed_refresh_token"`
}

// TestOpenIDClientFAPI2: a bank-grade client under extensions.profile:
// fapi2, with openid-client: private_key_jwt (PS256), a pushed request
// whose code is bound to a DPoP key, chromium signing in with the
// request_uri alone, DPoP-bound tokens, a PS256 ID token, userinfo with
// the proof, and a refresh that keeps its refresh token (FAPI 2.0
// §5.3.2.1: no rotation); the same client's request sent without PAR is
// refused. On the memory store and DynamoDB Local.
func TestOpenIDClientFAPI2(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node, chromium (and DynamoDB Local)")
	}
	clientKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dpopKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clientPrivate, _ := json.Marshal(jose.JSONWebKey{Key: clientKey, KeyID: "bank-1", Algorithm: "PS256", Use: "sig"})
	clientPublic, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &clientKey.PublicKey, KeyID: "bank-1", Use: "sig"}}})
	dpopPrivate, _ := json.Marshal(jose.JSONWebKey{Key: dpopKey})
	thumb, err := (&jose.JSONWebKey{Key: &dpopKey.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	jkt := base64.RawURLEncoding.EncodeToString(thumb)
	const metadata = `{"client_id":"bank","token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"PS256","id_token_signed_response_alg":"PS256"}`
	for _, tt := range e2etest.Storages("fapi", emulatortest.SharedDynamoDBLocal(t)) {
		t.Run(tt.Name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "local")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
			t.Setenv("AWS_REGION", "us-east-1")
			redirectURI := callbackServer(t)
			issuer := startFAPIProvider(t, tt.YAML, string(clientPublic), redirectURI)
			verifier, state, nonce := rand.Text()+rand.Text(), rand.Text(), rand.Text()
			args := []string{issuer, metadata, string(clientPrivate), redirectURI, verifier, state, nonce, string(dpopPrivate), jkt}
			var pushed fapiPush
			e2etest.Node(t, "fapi.cjs", &pushed, append([]string{"push"}, args...)...)
			if !pushed.RequirePAR || !slices.Equal(pushed.AuthMethods, []string{"private_key_jwt"}) ||
				!slices.Equal(pushed.ResponseTypes, []string{"code"}) || slices.Contains(pushed.IDTokenAlgs, "RS256") || pushed.ExpiresIn != 60 {
				t.Fatalf("the provider's metadata does not show the profile: %+v", pushed)
			}
			callback := newTab(t).login(t, pushed.URL, redirectURI)
			var got fapiCallback
			e2etest.Node(t, "fapi.cjs", &got, append(append([]string{"callback"}, args...), callback)...)
			switch {
			case got.TokenType != "DPoP" || got.RefreshedTokenType != "DPoP":
				t.Errorf("token types %q, %q; want DPoP-bound tokens", got.TokenType, got.RefreshedTokenType)
			case got.IDTokenAlg != "PS256":
				t.Errorf("ID token alg %s; want PS256", got.IDTokenAlg)
			case got.Sub != userSubject || got.UserinfoSub != userSubject:
				t.Errorf("sub %q, userinfo sub %q; want %s", got.Sub, got.UserinfoSub, userSubject)
			case got.RefreshToken == "" || got.RefreshedRefreshToken != got.RefreshToken:
				t.Errorf("refresh tokens %q → %q; want the same token (no rotation)", got.RefreshToken, got.RefreshedRefreshToken)
			}
			// The bound access token is no bearer token.
			req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+got.AccessToken)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("the DPoP-bound token as a bearer token: %v %v; want 401", resp, err)
			}
			requireNotPushedRefused(t, issuer, redirectURI)
		})
	}
}

// requireNotPushedRefused sends the client's request to the authorization
// endpoint without PAR: refused (FAPI 2.0 §5.3.2.2), back at the client.
func requireNotPushedRefused(t *testing.T, issuer, redirectURI string) {
	t.Helper()
	q := url.Values{"client_id": {"bank"}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(issuer + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || !strings.HasPrefix(loc.String(), redirectURI) || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("an authorization request without PAR: %d %s; want invalid_request at the client", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// startFAPIProvider serves a provider under the FAPI 2.0 profile with one
// client, bank (private_key_jwt with jwks, PS256 ID tokens).
func startFAPIProvider(t *testing.T, storage, jwks, redirectURI string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	yaml := fmt.Sprintf(`issuer: %s
%s
enablePasswordDB: true
oauth2: {skipApprovalScreen: true}
signer: {type: local, config: {algorithm: PS256}}
extensions:
  profile: fapi2
staticClients:
  - id: bank
    name: A bank
    jwks: '%s'
    idTokenSigningAlg: PS256
    redirectURIs: [%s]
%s`, issuer, storage, jwks, redirectURI, e2etest.StaticPasswords)
	e2etest.Serve(t, srv, yaml, nil)
	return issuer
}

// TestOpenIDClientPublicPARWithDPoP: a single-page or mobile app (a
// public client) with openid-client pushes its request (client_id alone,
// PKCE, dpop_jkt), signs in through chromium with the request_uri, and
// gets DPoP-bound tokens; its refresh token is bound to the same key and
// rotated (RFC 9449 §5, RFC 9700 §4.14.2).
func TestOpenIDClientPublicPARWithDPoP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node and chromium")
	}
	dpopKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dpopPrivate, _ := json.Marshal(jose.JSONWebKey{Key: dpopKey})
	thumb, _ := (&jose.JSONWebKey{Key: &dpopKey.PublicKey}).Thumbprint(crypto.SHA256)
	redirectURI := callbackServer(t)
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	e2etest.Serve(t, srv, fmt.Sprintf(`issuer: %s
storage: {type: memory}
enablePasswordDB: true
staticClients:
  - id: spa
    name: A single-page app
    public: true
    requireDPoP: true
    requirePushedAuthorizationRequests: true
    redirectURIs: [%s]
%s`, issuer, redirectURI, e2etest.StaticPasswords), nil)
	verifier, state, nonce := rand.Text()+rand.Text(), rand.Text(), rand.Text()
	args := []string{issuer, `{"client_id":"spa","token_endpoint_auth_method":"none"}`, "", redirectURI, verifier, state, nonce,
		string(dpopPrivate), base64.RawURLEncoding.EncodeToString(thumb)}
	var pushed fapiPush
	e2etest.Node(t, "fapi.cjs", &pushed, append([]string{"push"}, args...)...)
	callback := newTab(t).loginApproving(t, pushed.URL, redirectURI)
	var got fapiCallback
	e2etest.Node(t, "fapi.cjs", &got, append(append([]string{"callback"}, args...), callback)...)
	if got.TokenType != "DPoP" || got.RefreshedTokenType != "DPoP" || got.Sub != userSubject || got.UserinfoSub != userSubject ||
		got.RefreshToken == "" || got.RefreshedRefreshToken == got.RefreshToken {
		t.Errorf("public client with PAR and DPoP: %+v; want DPoP-bound tokens, the user, a rotated refresh token", got)
	}
}

// loginApproving is login for a client whose users always see the
// approval page (a public client on a loopback redirect URI, RFC 8252
// §8.6): sign in, approve, and return where the browser ended.
func (b *tab) loginApproving(t *testing.T, authURL, redirectURI string) string {
	t.Helper()
	b.t = t
	b.do("open the authorization URL, sign in and approve",
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), userEmail),
		chromedp.SendKeys(chromedp.ID("password"), userPassword),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name=approve]`)),
		chromedp.Click(chromedp.CSS(`button[name=approve]`)),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	loc := read(b, "read the location", chromedp.Location())
	if !strings.HasPrefix(loc, redirectURI+"?") {
		t.Fatalf("the browser ended at %s; want %s", loc, redirectURI)
	}
	return loc
}
