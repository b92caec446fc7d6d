package oidc_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/serverless-oidc/op/pkg/oidc"
	"golang.org/x/oauth2"
)

const (
	ordersAPI  = "https://orders.example.com"
	reportsAPI = "https://reports.example.com"
	apiID      = "orders-api" // the orders API's own credentials, for introspection
	apiSecret  = "b3JkZXJzLWFwaS1zZWNyZXQtdmFsdWU"
)

// resourceEnv configures two APIs: orders (two scopes, a 10 minute TTL,
// ES256, introspected by apiID) and reports (one scope), both allowed to
// the confidential client; the public client is allowed neither.
func resourceEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(c *oidc.Config) {
		c.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantClientCredentials}
		c.ResourceServers = []oidc.ResourceServer{
			{ID: ordersAPI, Name: "Orders API", AllowedClients: []string{confidentialID, otherID}, IntrospectionClients: []string{apiID},
				AccessTokenTTL: 10 * time.Minute, SigningAlg: oidc.ES256,
				Scopes: []oidc.APIScope{{Name: "orders:read", Description: "Read your orders"}, {Name: "orders:write", Description: "Place orders for you"}}},
			{ID: reportsAPI, Name: "Reports API", AllowedClients: []string{confidentialID},
				Scopes: []oidc.APIScope{{Name: "reports:read", Description: "Read your reports"}}},
		}
	})
	e.store.PutClient(oidc.Client{ID: apiID, SecretHash: oidc.HashSecret(apiSecret), GrantTypes: []string{oidc.GrantClientCredentials}})
	return e
}

// apiVerify verifies raw as an API would, offline: the signature by a key
// of the provider's JWKS (golang-jwt/jwt/v5 with go-jose's key set), typ
// at+jwt (RFC 9068 §4), iss, exp, and aud containing audience.
func apiVerify(t *testing.T, e *env, raw, audience string) (jwt.MapClaims, error) {
	t.Helper()
	resp, err := testClient.Get(e.issuer + oidc.PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
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
	}, jwt.WithValidMethods([]string{"ES256", "RS256"}), jwt.WithIssuer(e.issuer), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(e.clock.Now))
	return claims, err
}

// rpConfig is the confidential client as x/oauth2 sees it.
func (e *env) rpConfig(scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: confidentialID, ClientSecret: confidentialSecret, RedirectURL: redirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + oidc.PathAuthorize, TokenURL: e.issuer + oidc.PathToken, AuthStyle: oauth2.AuthStyleInHeader}}
}

// rpCode runs the browser part of a flow started at authURL and returns the code.
func (e *env) rpCode(authURL string) string {
	e.t.Helper()
	return e.code(mustParse(e.t, authURL).Query())
}

// TestResourceCodeFlow: a code flow through x/oauth2 with resource and API
// scopes gets a token whose aud is exactly the API, with its scopes
// alone, that the API verifies offline; the API introspects it, and
// another API's token is inactive for it.
func TestResourceCodeFlow(t *testing.T) {
	e := resourceEnv(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, testClient)
	cfg := e.rpConfig("openid", "email", "orders:read", "offline_access")
	code := e.rpCode(cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("resource", ordersAPI), oauth2.SetAuthURLParam("nonce", "n1")))
	tok, err := cfg.Exchange(ctx, code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	claims, err := apiVerify(t, e, tok.AccessToken, ordersAPI)
	if err != nil {
		t.Fatalf("the API refuses its token: %v", err)
	}
	if aud, _ := claims.GetAudience(); !slices.Equal(aud, []string{ordersAPI}) {
		t.Errorf("aud = %q; want exactly [%s]", aud, ordersAPI)
	}
	if claims["scope"] != "orders:read" || claims["client_id"] != confidentialID || claims["sub"] == nil || claims["jti"] == nil || claims["auth_time"] == nil {
		t.Errorf("claims = %v; want scope orders:read, client_id, sub, jti, auth_time", claims)
	}
	if exp, _ := claims.GetExpirationTime(); !exp.Equal(e.clock.Now().Truncate(time.Second).Add(10 * time.Minute)) {
		t.Errorf("exp = %v; want the API's 10m TTL", exp)
	}
	if tok.Extra("scope") != "orders:read" || tok.Extra("id_token") == nil {
		t.Errorf("response scope %v, id_token %v", tok.Extra("scope"), tok.Extra("id_token") != nil)
	}
	if _, err := apiVerify(t, e, tok.AccessToken, reportsAPI); err == nil {
		t.Error("the reports API accepts a token for the orders API")
	}
	if p := e.userinfo(http.MethodGet, "Bearer "+tok.AccessToken, ""); p.status != http.StatusUnauthorized {
		t.Errorf("userinfo with an API token: %d; want 401", p.status)
	}
	if got := e.introspect(tok.AccessToken, apiID, apiSecret); got["active"] != true || got["scope"] != "orders:read" {
		t.Errorf("the API's introspection of its token = %v; want active", got)
	}
	other := e.introspect(e.tokens()["access_token"].(string), apiID, apiSecret)
	if other["active"] != false {
		t.Errorf("the API's introspection of a userinfo token = %v; want inactive", other)
	}
	// A refresh naming a resource that was not granted: invalid_target.
	status, body, _ := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "resource": {reportsAPI}}, confidentialID, confidentialSecret)
	if status != http.StatusBadRequest || body["error"] != "invalid_target" {
		t.Errorf("refresh with an ungranted resource: %d %v; want invalid_target", status, body)
	}
	status, body, _ = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "resource": {ordersAPI}}, confidentialID, confidentialSecret)
	if status != http.StatusOK {
		t.Fatalf("refresh with the granted resource: %d %v", status, body)
	}
	if _, err := apiVerify(t, e, body["access_token"].(string), ordersAPI); err != nil {
		t.Errorf("refreshed token: %v", err)
	}
}

// TestResourceSeveral: two resources at once (resource repeated, RFC 8707
// §2) and the userinfo endpoint among them; a refresh down-scopes to one.
func TestResourceSeveral(t *testing.T) {
	e := resourceEnv(t)
	params := authParams()
	params.Set("scope", "openid email reports:read offline_access")
	params["resource"] = []string{reportsAPI, e.issuer + oidc.PathUserInfo}
	code := e.code(params)
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, confidentialID, confidentialSecret)
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, body)
	}
	claims, err := apiVerify(t, e, body["access_token"].(string), reportsAPI)
	if err != nil {
		t.Fatal(err)
	}
	if aud, _ := claims.GetAudience(); !slices.Equal(aud, []string{reportsAPI, e.issuer + oidc.PathUserInfo}) || claims["scope"] != "openid email reports:read offline_access" {
		t.Errorf("aud %q scope %q", aud, claims["scope"])
	}
	if p := e.userinfo(http.MethodGet, "Bearer "+body["access_token"].(string), ""); p.status != http.StatusOK {
		t.Errorf("userinfo among the audiences: %d", p.status)
	}
	// A refresh narrows the token to the reports API.
	status, body, _ = e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}, "resource": {reportsAPI}}, confidentialID, confidentialSecret)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, body)
	}
	claims, _ = apiVerify(t, e, body["access_token"].(string), reportsAPI)
	if aud, _ := claims.GetAudience(); !slices.Equal(aud, []string{reportsAPI}) || claims["scope"] != "reports:read" || body["scope"] != "reports:read" {
		t.Errorf("down-scoped: aud %q scope %q, response scope %v", aud, claims["scope"], body["scope"])
	}
}

// TestResourceRefused: every refusal at the authorization endpoint is
// invalid_target (or invalid_scope for another API's scope), sent back to
// the client.
func TestResourceRefused(t *testing.T) {
	e := resourceEnv(t)
	tests := []struct {
		name, client, scope string
		resource            []string
		want                string
	}{
		{"unknown", confidentialID, "openid", []string{"https://unknown.example.com"}, "invalid_target"},
		{"not allowed for the client", otherID, "openid", []string{reportsAPI}, "invalid_target"},
		{"relative", confidentialID, "openid", []string{"/orders"}, "invalid_target"},
		{"fragment", confidentialID, "openid", []string{ordersAPI + "#x"}, "invalid_target"},
		{"scope of another API", confidentialID, "openid orders:read", []string{reportsAPI}, "invalid_scope"},
		{"API scope without resource", confidentialID, "openid orders:read", nil, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := authParams()
			params.Set("client_id", tt.client)
			params.Set("scope", tt.scope)
			params["resource"] = tt.resource
			p := e.get(e.browser(), oidc.PathAuthorize, params)
			if p.status != http.StatusFound {
				t.Fatalf("status %d; want a redirect to the client:\n%s", p.status, p.body)
			}
			if got := mustParse(t, p.header.Get("Location")).Query().Get("error"); got != tt.want {
				t.Errorf("error = %q; want %q", got, tt.want)
			}
		})
	}
	t.Run("code redeemed for an ungranted resource", func(t *testing.T) {
		params := authParams()
		params.Set("scope", "openid orders:read")
		params.Set("resource", ordersAPI)
		code := e.code(params)
		status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "resource": {reportsAPI}}, confidentialID, confidentialSecret)
		if status != http.StatusBadRequest || body["error"] != "invalid_target" {
			t.Errorf("%d %v; want invalid_target", status, body)
		}
	})
}

// TestResourceConsent: the approval page lists each API with its scopes
// and descriptions; an approval remembered covers them, and a new API
// scope asks again.
func TestResourceConsent(t *testing.T) {
	e := resourceEnv(t)
	c := e.browser()
	params := authParams()
	params.Set("scope", "openid orders:read")
	params.Set("resource", ordersAPI)
	p := e.get(c, oidc.PathAuthorize, params)
	form := formFields(t, p)
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	p = e.postForm(c, oidc.PathLogin, form)
	for _, want := range []string{"Orders API", "orders:read", "Read your orders"} {
		if !strings.Contains(htmlUnescape(p.body), want) {
			t.Errorf("consent page lacks %q:\n%s", want, p.body)
		}
	}
	if strings.Contains(p.body, "orders:write") {
		t.Error("consent page lists a scope not asked for")
	}
	consent := formFields(t, p)
	consent.Set("approve", "1")
	if p = e.postForm(c, oidc.PathConsent, consent); p.status != http.StatusSeeOther {
		t.Fatalf("approve: %d", p.status)
	}
	if p = e.get(c, oidc.PathAuthorize, params); p.status != http.StatusFound {
		t.Errorf("same request again: %d; want answered from remembered consent", p.status)
	}
	params.Set("scope", "openid orders:read orders:write")
	if p = e.get(c, oidc.PathAuthorize, params); p.status != http.StatusOK || !strings.Contains(p.body, "Place orders for you") {
		t.Errorf("a new API scope: %d; want the consent page again", p.status)
	}
}

// TestResourceClientCredentials: a service names a resource server (no
// allowedAudiences needed) and gets the API's scopes its allowedScopes
// list (a token with no user gets only what the operator listed); a
// resource server that does not allow it is invalid_target.
func TestResourceClientCredentials(t *testing.T) {
	e := resourceEnv(t)
	e.store.PutClient(oidc.Client{ID: otherID, SecretHash: oidc.HashSecret(otherSecret), RedirectURIs: []string{redirectURI},
		GrantTypes: []string{oidc.GrantClientCredentials, oidc.GrantAuthorizationCode}, AllowedScopes: []string{"orders:write"}})
	status, body, _ := e.token(url.Values{"grant_type": {"client_credentials"}, "resource": {ordersAPI}, "scope": {"orders:write"}}, otherID, otherSecret)
	if status != http.StatusOK {
		t.Fatalf("%d %v", status, body)
	}
	claims, err := apiVerify(t, e, body["access_token"].(string), ordersAPI)
	if err != nil || claims["scope"] != "orders:write" || claims["gty"] != "client_credentials" {
		t.Errorf("claims %v (%v)", claims, err)
	}
	if got := e.introspect(body["access_token"].(string), apiID, apiSecret); got["active"] != true {
		t.Errorf("the API's introspection of a service token = %v", got)
	}
	status, body, _ = e.token(url.Values{"grant_type": {"client_credentials"}, "resource": {reportsAPI}}, otherID, otherSecret)
	if status != http.StatusBadRequest || body["error"] != "invalid_target" {
		t.Errorf("a resource server that does not allow the client: %d %v", status, body)
	}
}

// introspect asks the introspection endpoint about token as client id.
func (e *env) introspect(token, id, secret string) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+oidc.PathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := testClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		e.t.Fatal(err)
	}
	return body
}
