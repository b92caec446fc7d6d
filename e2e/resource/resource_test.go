package resource

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/serverless-oidc/op/e2e/e2etest"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedDynamoDBLocal()
	os.Exit(code)
}

// tokenSet is what openid-client's TokenSet holds.
type tokenSet struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
}

// TestNodeResourceFlow: on each store, npm's openid-client asks for the
// orders and reports APIs (resource twice, RFC 8707 §2.1) with one scope
// of each, the user signs in, and openid-client redeems the code with
// PKCE. The access token is verified as each API would verify it; a
// refresh naming an API that was not granted is invalid_target, and one
// naming the reports API alone gets a token for it alone (§2.2).
func TestNodeResourceFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node (and DynamoDB Local)")
	}
	for _, tt := range []struct {
		name    string
		storage func(t *testing.T) string
	}{
		{"memory", func(*testing.T) string { return e2etest.MemoryStorage }},
		{"dynamodb", func(t *testing.T) string {
			return e2etest.DynamoDBStorage("resource", emulatortest.SharedDynamoDBLocal(t))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "local")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
			t.Setenv("AWS_REGION", "us-east-1")
			issuer := startProvider(t, tt.storage(t))
			var auth struct {
				URL    string          `json:"url"`
				Checks json.RawMessage `json:"checks"`
			}
			node(t, &auth, "authorize", issuer, clientID, clientSecret, redirectURI,
				"openid email orders:read reports:read offline_access", ordersAPI, reportsAPI)
			u, err := url.Parse(auth.URL)
			if err != nil || !slices.Equal(u.Query()["resource"], []string{ordersAPI, reportsAPI}) || u.Query().Get("code_challenge_method") != "S256" {
				t.Fatalf("openid-client's authorization URL %s (%v)", auth.URL, err)
			}
			loc, err := oidctest.NewBrowser().Authorize(auth.URL, userEmail, userPassword)
			if err != nil {
				t.Fatalf("sign in: %v", err)
			}
			var got struct {
				Tokens   tokenSet       `json:"tokens"`
				Claims   map[string]any `json:"claims"`
				Refused  string         `json:"refused"`
				Narrowed tokenSet       `json:"narrowed"`
			}
			node(t, &got, "redeem", issuer, clientID, clientSecret, loc.String(), string(auth.Checks), auditAPI, reportsAPI)
			if got.Claims["email"] != userEmail || got.Tokens.RefreshToken == "" {
				t.Fatalf("ID token claims %v, refresh token %t", got.Claims, got.Tokens.RefreshToken != "")
			}
			checkAPIToken(t, issuer, got.Tokens.AccessToken, got.Claims["sub"], []string{ordersAPI, reportsAPI}, "orders:read reports:read", 10*time.Minute)
			if tok, _, err := jwt.NewParser().ParseUnverified(got.Tokens.AccessToken, jwt.MapClaims{}); err != nil || tok.Method.Alg() != "ES256" {
				t.Errorf("the token for the orders API (signingAlg ES256) is signed with %v (%v)", tok.Header["alg"], err)
			}
			if got.Tokens.Scope != "orders:read reports:read" {
				t.Errorf("token response scope %q; want the APIs' scopes alone", got.Tokens.Scope)
			}
			if status := userinfoStatus(t, issuer, got.Tokens.AccessToken); status != http.StatusUnauthorized {
				t.Errorf("userinfo with a token for the APIs alone: %d; want 401", status)
			}
			if got.Refused != "invalid_target" {
				t.Errorf("refresh naming an API not granted: %q; want invalid_target", got.Refused)
			}
			checkAPIToken(t, issuer, got.Narrowed.AccessToken, got.Claims["sub"], []string{reportsAPI}, "reports:read", 0)
			if _, err := verifyAsAPI(issuer, got.Narrowed.AccessToken, ordersAPI); err == nil {
				t.Error("the orders API accepts the token narrowed to the reports API")
			}
			// The orders API introspects (RFC 7662) the tokens for it, and
			// no other: the narrowed token is inactive for it.
			if in := introspect(t, issuer, got.Tokens.AccessToken); in["active"] != true || in["scope"] != "orders:read reports:read" {
				t.Errorf("the orders API introspects its token: %v; want active", in)
			}
			if in := introspect(t, issuer, got.Narrowed.AccessToken); in["active"] != false || len(in) != 1 {
				t.Errorf("the orders API introspects a token for the reports API alone: %v; want {active: false}", in)
			}
		})
	}
}

// checkAPIToken verifies raw as each API of aud would (verifyAsAPI) and
// checks its claims: aud exactly aud, scope exactly scope, the user's sub,
// the client's client_id, jti, auth_time, and a lifetime of ttl (any when
// zero).
func checkAPIToken(t *testing.T, issuer, raw string, sub any, aud []string, scope string, ttl time.Duration) {
	t.Helper()
	for _, api := range aud {
		claims, err := verifyAsAPI(issuer, raw, api)
		if err != nil {
			t.Fatalf("%s refuses the token: %v", api, err)
		}
		if got, _ := claims.GetAudience(); !slices.Equal(got, aud) {
			t.Errorf("aud = %q; want exactly %q", got, aud)
		}
		if claims["scope"] != scope || claims["sub"] != sub || claims["client_id"] != clientID || claims["jti"] == nil || claims["auth_time"] == nil {
			t.Errorf("claims = %v; want scope %q, sub %v, client_id %s, jti, auth_time", claims, scope, sub, clientID)
		}
		iat, _ := claims.GetIssuedAt()
		exp, _ := claims.GetExpirationTime()
		if ttl != 0 && (iat == nil || exp.Sub(iat.Time) != ttl) {
			t.Errorf("iat %v, exp %v; want a lifetime of %v (the shortest of the APIs')", iat, exp, ttl)
		}
	}
}

// verifyAsAPI verifies raw as the API audience would, offline: the
// signature by a key of the provider's JWKS (golang-jwt/jwt/v5 with
// go-jose's key set), typ at+jwt (RFC 9068 §4), iss, exp and aud.
func verifyAsAPI(issuer, raw, audience string) (jwt.MapClaims, error) {
	resp, err := http.Get(issuer + oidc.PathJWKS)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var jwks jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		if tok.Header["typ"] != "at+jwt" {
			return nil, errors.New("not an RFC 9068 access token")
		}
		kid, _ := tok.Header["kid"].(string)
		keys := jwks.Key(kid)
		if len(keys) != 1 || keys[0].Algorithm != tok.Method.Alg() {
			return nil, errors.New("unknown key")
		}
		return keys[0].Key, nil
	}, jwt.WithValidMethods([]string{"ES256", "RS256"}), jwt.WithIssuer(issuer), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	return claims, err
}

// introspect asks the introspection endpoint about token as the orders
// API (apiClient, client_secret_basic).
func introspect(t *testing.T, issuer, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, issuer+oidc.PathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(apiClient, apiSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("introspection answered %s: %v", resp.Status, err)
	}
	return body
}

// userinfoStatus is the status userinfo answers with token as Bearer.
func userinfoStatus(t *testing.T, issuer, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, issuer+oidc.PathUserInfo, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
