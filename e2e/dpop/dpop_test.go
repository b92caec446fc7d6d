package dpop

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/serverless-oidc/op/e2e/e2etest"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedDynamoDBLocal()
	os.Exit(code)
}

const (
	clientID     = "spa"
	redirectURI  = "http://127.0.0.1:5555/callback"
	userEmail    = e2etest.AdminEmail
	userPassword = e2etest.AdminPassword
	userSubject  = e2etest.AdminSubject
	envNonce     = "OIDC_TEST_DPOP_NONCE_SECRET"
)

// result is what dpop.cjs prints.
type result struct {
	DPoPAlgs             []string        `json:"dpop_algs"`
	JWK                  json.RawMessage `json:"jwk"`
	TokenType            string          `json:"token_type"`
	AccessToken          string          `json:"access_token"`
	Sub                  string          `json:"sub"`
	UserInfo             map[string]any  `json:"userinfo"`
	RefreshedTokenType   string          `json:"refreshed_token_type"`
	RefreshedAccessToken string          `json:"refreshed_access_token"`
	UserInfoAfterRefresh map[string]any  `json:"userinfo_after_refresh"`
}

// TestOpenIDClientDPoP: openid-client's code flow with DPoP gets tokens
// bound to its key (cnf.jkt its RFC 7638 thumbprint), and userinfo and a
// refresh with that key work, on each store, with and without nonces.
func TestOpenIDClientDPoP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node (and DynamoDB Local)")
	}
	for _, tt := range []struct{ name, storage, dpop string }{
		{"memory", e2etest.MemoryStorage, ""},
		{"dynamodb, nonces", e2etest.DynamoDBStorage("dpop", emulatortest.SharedDynamoDBLocal(t)),
			"requireNonce: true\n    nonceSecret: $" + envNonce},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "local")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv(envNonce, rand.Text()+rand.Text())
			issuer := startProvider(t, tt.storage, tt.dpop)
			verifier, state, nonce := rand.Text()+rand.Text(), rand.Text(), rand.Text()
			sum := sha256.Sum256([]byte(verifier))
			q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
				"scope": {"openid email offline_access"}, "state": {state}, "nonce": {nonce},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
			loc, err := oidctest.NewBrowser().Authorize(issuer+"/authorize?"+q.Encode(), userEmail, userPassword)
			if err != nil {
				t.Fatal(err)
			}
			var r result
			node(t, &r, issuer, clientID, redirectURI, loc.String(), verifier, state, nonce)
			var jwk jose.JSONWebKey
			if err := jwk.UnmarshalJSON(r.JWK); err != nil {
				t.Fatal(err)
			}
			tp, _ := jwk.Thumbprint(crypto.SHA256)
			jkt := base64.RawURLEncoding.EncodeToString(tp)
			if r.TokenType != "DPoP" || r.RefreshedTokenType != "DPoP" || !strings.Contains(strings.Join(r.DPoPAlgs, " "), "ES256") {
				t.Fatalf("token types %q, %q, algorithms %v; want DPoP", r.TokenType, r.RefreshedTokenType, r.DPoPAlgs)
			}
			for _, at := range []string{r.AccessToken, r.RefreshedAccessToken} {
				if got := cnfJKT(t, at); got != jkt {
					t.Errorf("cnf.jkt %q; want the client key's thumbprint %q", got, jkt)
				}
			}
			if r.Sub != userSubject || r.UserInfo["sub"] != userSubject || r.UserInfo["email"] != userEmail || r.UserInfoAfterRefresh["sub"] != userSubject {
				t.Errorf("sub %q, userinfo %v, after refresh %v", r.Sub, r.UserInfo, r.UserInfoAfterRefresh)
			}
		})
	}
}

func cnfJKT(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Cnf.JKT
}

// startProvider serves the provider of a config with the given storage
// and extensions.dpop sections on a loopback port.
func startProvider(t *testing.T, storage, dpop string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	yaml := fmt.Sprintf(`issuer: %s
%s
enablePasswordDB: true
oauth2: {skipApprovalScreen: true}
staticClients:
  - id: %s
    name: SPA
    public: true
    requireDPoP: true
    redirectURIs: [%s]
%s`, issuer, storage, clientID, redirectURI, e2etest.StaticPasswords)
	if dpop != "" {
		yaml += "extensions:\n  dpop:\n    " + dpop + "\n"
	}
	e2etest.Serve(t, srv, yaml, nil)
	return issuer
}

// node runs testdata/dpop.cjs with args and decodes what it prints into out.
func node(t *testing.T, out any, args ...string) { e2etest.Node(t, "dpop.cjs", out, args...) }
