package registration

import (
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

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
	redirectURI  = "http://127.0.0.1:5555/callback"
	userEmail    = "admin@example.com"
	userPassword = "password"
	envTokens    = "OIDC_TEST_REGISTRATION_TOKENS"
	initialToken = "initial-access-token-for-the-node-rp"
)

// TestRegisteredClientSignsIn: on each store, the Node RP registers, the
// Go RP signs in with the registration, the Node RP reads, updates and
// deletes it, and the deleted client can no longer sign in.
func TestRegisteredClientSignsIn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node (and DynamoDB Local)")
	}
	for _, tt := range []struct {
		name, storage, registration, token string
	}{
		{"memory, open", e2etest.MemoryStorage, "policy: open", ""},
		{"dynamodb, initial access token", e2etest.DynamoDBStorage("reg", emulatortest.SharedDynamoDBLocal(t)),
			"policy: initialAccessToken\n    initialAccessTokensEnv: " + envTokens, initialToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "local")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv(envTokens, "another-token-nobody-holds,"+initialToken)
			issuer := startProvider(t, tt.storage, tt.registration)

			var reg struct {
				Endpoint string         `json:"registration_endpoint"`
				Refused  string         `json:"refused"`
				Client   map[string]any `json:"client"`
			}
			args := []string{"register", issuer, redirectURI}
			if tt.token != "" {
				args = append(args, tt.token)
			}
			node(t, &reg, args...)
			if reg.Endpoint != issuer+"/register" || reg.Refused != "invalid_redirect_uri" {
				t.Fatalf("discovery's registration_endpoint %q, refusal %q", reg.Endpoint, reg.Refused)
			}
			id, _ := reg.Client["client_id"].(string)
			secret, _ := reg.Client["client_secret"].(string)
			if id == "" || secret == "" || reg.Client["client_name"] != "Node RP" {
				t.Fatalf("registered %v", reg.Client)
			}
			if err := signIn(t, issuer, id, secret); err != nil {
				t.Fatalf("the registered client could not sign in: %v", err)
			}

			var managed struct {
				Read   map[string]any `json:"read"`
				Update struct {
					Status int            `json:"status"`
					Body   map[string]any `json:"body"`
				} `json:"update"`
				Delete      struct{ Status int } `json:"delete"`
				AfterDelete string               `json:"afterDelete"`
			}
			node(t, &managed, "manage", issuer, reg.Client["registration_client_uri"].(string), reg.Client["registration_access_token"].(string))
			if managed.Read["client_id"] != id || managed.Read["client_secret"] != nil ||
				managed.Update.Status != 200 || managed.Update.Body["client_name"] != "Node RP, renamed" ||
				managed.Delete.Status != 204 || managed.AfterDelete != "invalid_token" {
				t.Fatalf("management: %+v", managed)
			}
			if err := signIn(t, issuer, id, secret); err == nil {
				t.Fatal("a deleted client signed in")
			}
		})
	}
}

// startProvider serves the provider of a config with the given storage
// and registration sections on a loopback port.
func startProvider(t *testing.T, storage, registration string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	yaml := fmt.Sprintf(`issuer: %s
%s
enablePasswordDB: true
oauth2: {skipApprovalScreen: true}
staticPasswords:
  - email: %s
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
extensions:
  registration:
    %s
`, issuer, storage, userEmail, registration)
	e2etest.Serve(t, srv, yaml, nil)
	return issuer
}

// signIn is the Go relying party: the code flow with PKCE (S256) through
// golang.org/x/oauth2, the user signing in at the provider's pages, and
// the ID token verified with go-oidc.
func signIn(t *testing.T, issuer, id, secret string) error {
	ctx := t.Context()
	provider, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		return err
	}
	conf := oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: redirectURI, Endpoint: provider.Endpoint(),
		Scopes: []string{gooidc.ScopeOpenID, "email"}}
	verifier, state, nonce := oauth2.GenerateVerifier(), rand.Text(), rand.Text()
	loc, err := oidctest.NewBrowser().Authorize(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)), userEmail, userPassword)
	if err != nil {
		return err
	}
	if loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		return fmt.Errorf("redirected to %s", loc)
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return err
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: id}).Verify(ctx, raw)
	if err != nil {
		return err
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil || idt.Nonce != nonce || claims.Email != userEmail {
		return fmt.Errorf("ID token claims %+v, nonce %q (%v)", claims, idt.Nonce, err)
	}
	return nil
}

// node runs testdata/rp.cjs with args and decodes what it prints into out.
func node(t *testing.T, out any, args ...string) { e2etest.Node(t, "rp.cjs", out, args...) }
