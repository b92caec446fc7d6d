package privatekeyjwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
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
	clientID     = "backend"
	redirectURI  = "http://127.0.0.1:5555/callback"
	userEmail    = e2etest.AdminEmail
	userPassword = e2etest.AdminPassword
	userSubject  = e2etest.AdminSubject
)

// result is what privatekeyjwt.cjs prints.
type result struct {
	AuthMethods  []string `json:"auth_methods"`
	AuthAlgs     []string `json:"auth_algs"`
	Sub          string   `json:"sub"`
	ActiveBefore bool     `json:"active_before"`
	ClientID     string   `json:"client_id"`
	ActiveAfter  bool     `json:"active_after"`
}

// TestOpenIDClientPrivateKeyJWT: openid-client authenticates with
// private_key_jwt at the token, introspection and revocation endpoints.
func TestOpenIDClientPrivateKeyJWT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node (and DynamoDB Local)")
	}
	for _, tt := range e2etest.Storages("pkjwt", emulatortest.SharedDynamoDBLocal(t)) {
		t.Run(tt.Name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "local")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
			t.Setenv("AWS_REGION", "us-east-1")
			priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			private, _ := json.Marshal(jose.JSONWebKey{Key: priv, KeyID: "k1", Algorithm: "ES256", Use: "sig"})
			public, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k1", Use: "sig"}}})
			issuer := startProvider(t, tt.YAML, string(public))
			verifier, state, nonce := rand.Text()+rand.Text(), rand.Text(), rand.Text()
			sum := sha256.Sum256([]byte(verifier))
			q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
				"scope": {"openid email"}, "state": {state}, "nonce": {nonce},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
			loc, err := oidctest.NewBrowser().Authorize(issuer+"/authorize?"+q.Encode(), userEmail, userPassword)
			if err != nil {
				t.Fatal(err)
			}
			var r result
			e2etest.Node(t, "privatekeyjwt.cjs", &r, issuer, clientID, string(private), redirectURI, loc.String(), verifier, state, nonce)
			if !slices.Contains(r.AuthMethods, "private_key_jwt") || !slices.Contains(r.AuthAlgs, "ES256") {
				t.Errorf("discovery: methods %v, algorithms %v", r.AuthMethods, r.AuthAlgs)
			}
			if r.Sub != userSubject || !r.ActiveBefore || r.ClientID != clientID || r.ActiveAfter {
				t.Errorf("sub %q, active %v then %v after revocation, client_id %q", r.Sub, r.ActiveBefore, r.ActiveAfter, r.ClientID)
			}
		})
	}
}

// startProvider serves a provider whose one client authenticates with
// private_key_jwt and the keys of jwks.
func startProvider(t *testing.T, storage, jwks string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	yaml := fmt.Sprintf(`issuer: %s
%s
enablePasswordDB: true
oauth2: {skipApprovalScreen: true}
staticClients:
  - id: %s
    name: Backend
    jwks: '%s'
    redirectURIs: [%s]
%s`, issuer, storage, clientID, jwks, redirectURI, e2etest.StaticPasswords)
	e2etest.Serve(t, srv, yaml, nil)
	return issuer
}
