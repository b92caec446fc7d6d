package par

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4"

	"github.com/serverless-oidc/op/e2e/chromium"
	"github.com/serverless-oidc/op/e2e/e2etest"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedDynamoDBLocal()
	os.Exit(code)
}

const (
	userEmail    = e2etest.AdminEmail
	userPassword = e2etest.AdminPassword
	userSubject  = e2etest.AdminSubject
	// hmacSecret is the client_secret_jwt client's secret: at least 32
	// bytes (HS256's key size).
	hmacSecret = "a-client-secret-of-more-than-thirty-two-bytes"
)

// pushResult and callbackResult are what par.cjs prints.
type pushResult struct {
	PAREndpoint string   `json:"par_endpoint"`
	RequestAlgs []string `json:"request_algs"`
	AuthMethods []string `json:"auth_methods"`
	ExpiresIn   int      `json:"expires_in"`
	URL         string   `json:"url"`
}

type callbackResult struct {
	Sub      string `json:"sub"`
	Email    string `json:"email"`
	Active   bool   `json:"active"`
	ClientID string `json:"client_id"`
}

// TestOpenIDClientPARWithRequestObjects: openid-client pushes a signed
// request object, with private_key_jwt (ES256) and with client_secret_jwt
// (HS256), chromium signs in with client_id and request_uri alone, and
// the code is redeemed, on each store.
func TestOpenIDClientPARWithRequestObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node, chromium (and DynamoDB Local)")
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	private, _ := json.Marshal(jose.JSONWebKey{Key: priv, KeyID: "k1", Algorithm: "ES256", Use: "sig"})
	public, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k1", Use: "sig"}}})
	clients := []struct{ name, metadata, key string }{
		{"private_key_jwt", `{"client_id":"fapi","token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"ES256","request_object_signing_alg":"ES256"}`, string(private)},
		{"client_secret_jwt", `{"client_id":"hmac","client_secret":"` + hmacSecret + `","token_endpoint_auth_method":"client_secret_jwt","token_endpoint_auth_signing_alg":"HS256","request_object_signing_alg":"HS256"}`, ""},
	}
	for _, tt := range e2etest.Storages("par", emulatortest.SharedDynamoDBLocal(t)) {
		t.Run(tt.Name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "local")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
			t.Setenv("AWS_REGION", "us-east-1")
			redirectURI := callbackServer(t)
			issuer := startProvider(t, tt.YAML, string(public), redirectURI)
			tab := newTab(t)
			for _, c := range clients {
				t.Run(c.name, func(t *testing.T) {
					verifier, state, nonce := rand.Text()+rand.Text(), rand.Text(), rand.Text()
					args := []string{issuer, c.metadata, c.key, redirectURI, verifier, state, nonce}
					var pushed pushResult
					e2etest.Node(t, "par.cjs", &pushed, append([]string{"push"}, args...)...)
					if pushed.PAREndpoint != issuer+"/par" || pushed.ExpiresIn != 60 ||
						!slices.Contains(pushed.RequestAlgs, "ES256") || !slices.Contains(pushed.AuthMethods, "client_secret_jwt") {
						t.Fatalf("discovery or PAR answer: %+v", pushed)
					}
					u, _ := url.Parse(pushed.URL)
					if !strings.HasPrefix(u.Query().Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
						t.Fatalf("authorization URL %s has no PAR request_uri", pushed.URL)
					}
					callback := tab.login(t, pushed.URL, redirectURI)
					var r callbackResult
					e2etest.Node(t, "par.cjs", &r, append(append([]string{"callback"}, args...), callback)...)
					if r.Sub != userSubject || r.Email != userEmail || !r.Active || !strings.Contains(c.metadata, `"client_id":"`+r.ClientID+`"`) {
						t.Errorf("callback: %+v", r)
					}
					// The request_uri was used up by the login.
					tab.expectError(t, pushed.URL, "the request_uri is unknown, expired or already used")
				})
			}
		})
	}
}

// callbackServer is the clients' redirect URI: a page chromium can show,
// marked so the test knows it arrived.
func callbackServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><title>callback</title><body><p id="done">signed in</p></body>`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/callback"
}

// startProvider serves a provider with two confidential clients: fapi
// (private_key_jwt, the keys of jwks) and hmac (client_secret_jwt), both
// required to push their requests and to sign request objects.
func startProvider(t *testing.T, storage, jwks, redirectURI string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	yaml := fmt.Sprintf(`issuer: %s
%s
enablePasswordDB: true
oauth2: {skipApprovalScreen: true}
staticClients:
  - id: fapi
    name: FAPI client
    jwks: '%s'
    requestObjectSigningAlg: ES256
    requirePushedAuthorizationRequests: true
    redirectURIs: [%s]
  - id: hmac
    name: HMAC client
    secret: %s
    tokenEndpointAuthMethod: client_secret_jwt
    requestObjectSigningAlg: HS256
    redirectURIs: [%s]
extensions:
  pushedAuthorizationRequests: {required: true, lifetime: 60s}
%s`, issuer, storage, jwks, redirectURI, hmacSecret, redirectURI, e2etest.StaticPasswords)
	e2etest.Serve(t, srv, yaml, nil)
	return issuer
}

// tab is one headless chromium tab.
type tab struct {
	t      *testing.T
	ctx    context.Context
	output *chromium.Output
}

func newTab(t *testing.T) *tab {
	t.Helper()
	output := &chromium.Output{}
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(), chromium.Options(chromium.Path(t), t.TempDir(), output)...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx, output: output}
	b.start("start chromium")
	return b
}

// start binds the tab to b.ctx itself: the first action on a context
// opens its tab, which lives as long as the context that action ran with.
func (b *tab) start(what string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx); err != nil {
		b.t.Fatalf("%s: %v\nchromium output:\n%s", what, err, b.output.Tail(20))
	}
}

func (b *tab) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\nchromium output:\n%s", step, err, b.output.Tail(20))
	}
}

func read(b *tab, step string, a chromedp.Action[string]) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v\nchromium output:\n%s", step, err, b.output.Tail(20))
	}
	return v
}

// login opens authURL in a new browser context (a browser that never
// signed in), signs in and returns the URL the provider sent the browser
// back to.
func (b *tab) login(t *testing.T, authURL, redirectURI string) string {
	t.Helper()
	b.t = t
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	fresh := &tab{t: b.t, ctx: ctx, output: b.output}
	fresh.start("open a tab in a new browser context")
	fresh.do("open the authorization URL and sign in",
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), userEmail),
		chromedp.SendKeys(chromedp.ID("password"), userPassword),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	loc := read(fresh, "read the location", chromedp.Location())
	if !strings.HasPrefix(loc, redirectURI+"?") {
		b.t.Fatalf("the browser ended at %s; want %s", loc, redirectURI)
	}
	return loc
}

// expectError opens authURL and expects the provider's error page saying want.
func (b *tab) expectError(t *testing.T, authURL, want string) {
	t.Helper()
	b.t = t
	b.do("open a used authorization URL", chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.CSS("p.error")))
	if text := read(b, "read the error", chromedp.Text(chromedp.CSS("p.error"))); !strings.Contains(text, want) {
		b.t.Errorf("error page says %q; want %q", text, want)
	}
}
