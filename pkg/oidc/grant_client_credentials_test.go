package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/serverless-oidc/op/pkg/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	serviceID     = "billing-service"
	serviceSecret = "YmlsbGluZy1zZXJ2aWNlLXNlY3JldA"
	apiAudience   = "https://api.example.com"
)

// clientCredentialsEnv enables the client credentials grant provider-wide
// and registers serviceID, a client whose grantTypes list it, with two
// allowed scopes and one allowed audience.
func clientCredentialsEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(c *oidc.Config) {
		c.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantClientCredentials}
	})
	e.store.PutClient(oidc.Client{
		ID: serviceID, SecretHash: oidc.HashSecret(serviceSecret),
		GrantTypes:    []string{oidc.GrantClientCredentials},
		AllowedScopes: []string{"invoices:read", "invoices:write"}, AllowedAudiences: []string{apiAudience},
	})
	return e
}

// serviceConfig is x/oauth2's client credentials client for serviceID.
func (e *env) serviceConfig(scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: serviceID, ClientSecret: serviceSecret, TokenURL: e.issuer + oidc.PathToken, Scopes: scopes}
}

// verifiedAccessToken checks the signature of an access token with the
// provider's published JWKS (go-oidc's remote key set) and its RFC 9068
// type, and returns its claims.
func verifiedAccessToken(t *testing.T, e *env, raw string) map[string]any {
	t.Helper()
	ctx := context.Background()
	payload, err := gooidc.NewRemoteKeySet(ctx, e.issuer+oidc.PathJWKS).VerifySignature(ctx, raw)
	if err != nil {
		t.Fatalf("access token signature: %v", err)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h struct{ Typ string }
	if err := json.Unmarshal(header, &h); err != nil || h.Typ != "at+jwt" {
		t.Errorf("typ %q (%v); want at+jwt", h.Typ, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestClientCredentialsGrant: x/oauth2's clientcredentials gets a signed
// RFC 9068 access token for the client itself, for the scopes and audience
// it asked for, without ID or refresh token.
func TestClientCredentialsGrant(t *testing.T) {
	e := clientCredentialsEnv(t)
	ctx := context.Background()
	cc := e.serviceConfig("invoices:read")
	cc.EndpointParams = url.Values{"resource": {apiAudience}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken != "" || tok.Extra("id_token") != nil || tok.Expiry.IsZero() {
		t.Errorf("token type %q, refresh %q, id_token %v, expiry %v; want Bearer, none, none, set", tok.TokenType, tok.RefreshToken, tok.Extra("id_token"), tok.Expiry)
	}
	if got := tok.Extra("scope"); got != "invoices:read" {
		t.Errorf("scope %v; want invoices:read", got)
	}
	claims := verifiedAccessToken(t, e, tok.AccessToken)
	for k, want := range map[string]any{"iss": e.issuer, "sub": serviceID, "client_id": serviceID, "scope": "invoices:read", "aud": apiAudience, "gty": "client_credentials"} {
		if got := claims[k]; got != want && !slices.Equal(stringList(got), []string{want.(string)}) {
			t.Errorf("%s = %v; want %v", k, got, want)
		}
	}
	for _, k := range []string{"auth_time", "amr", "grant_id", "jti", "exp"} {
		if _, ok := claims[k]; ok != (k == "jti" || k == "exp") {
			t.Errorf("claim %s present: %v", k, ok)
		}
	}

	// No scope asked: every allowed scope (RFC 6749 §3.3's default);
	// no audience asked: the default audience.
	tok, err = e.serviceConfig().Token(ctx)
	if err != nil {
		t.Fatalf("Token without scope: %v", err)
	}
	claims = verifiedAccessToken(t, e, tok.AccessToken)
	if claims["scope"] != "invoices:read invoices:write" || tok.Extra("scope") != "invoices:read invoices:write" {
		t.Errorf("scope %v (response %v); want every allowed scope", claims["scope"], tok.Extra("scope"))
	}
	if aud := stringList(claims["aud"]); !slices.Equal(aud, []string{e.issuer + oidc.PathUserInfo}) {
		t.Errorf("aud %v; want the default audience", aud)
	}
}

// TestClientCredentialsRefused: every refusal with its RFC's exact code.
func TestClientCredentialsRefused(t *testing.T) {
	form := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	withGrant := oidc.Client{GrantTypes: []string{"client_credentials"}, AllowedScopes: []string{"jobs:run"}, AllowedAudiences: []string{apiAudience}}
	for _, tt := range []struct {
		name    string
		enabled bool
		client  oidc.Client
		form    url.Values
		code    string
	}{
		{"off provider-wide", false, withGrant, form(), "unsupported_grant_type"},
		{"client without grantTypes", true, oidc.Client{AllowedScopes: []string{"jobs:run"}}, form(), "unauthorized_client"},
		{"client whose grantTypes omit it", true, oidc.Client{GrantTypes: []string{"authorization_code"}}, form(), "unauthorized_client"},
		{"openid", true, withGrant, form("scope", "openid"), "invalid_scope"},
		{"openid beside an allowed scope", true, withGrant, form("scope", "jobs:run openid"), "invalid_scope"},
		{"a user scope", true, withGrant, form("scope", "email"), "invalid_scope"},
		{"offline_access", true, withGrant, form("scope", "offline_access"), "invalid_scope"},
		{"an audience scope", true, withGrant, form("scope", "audience:server:client_id:"+otherID), "invalid_scope"},
		{"a scope not allowed", true, withGrant, form("scope", "jobs:delete"), "invalid_scope"},
		{"a resource not allowed", true, withGrant, form("resource", "https://evil.example"), "invalid_target"},
		{"an audience not allowed", true, withGrant, form("audience", "other-api"), "invalid_target"},
		{"resource allowed, audience not", true, withGrant, form("resource", apiAudience, "audience", "https://evil.example"), "invalid_target"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.enabled {
				e = clientCredentialsEnv(t)
			}
			c := tt.client
			c.ID, c.SecretHash = "job-runner", oidc.HashSecret("job-runner-secret")
			e.store.PutClient(c)
			status, body, _ := e.token(tt.form, "job-runner", "job-runner-secret")
			if status != 400 || body["error"] != tt.code {
				t.Errorf("%d %v; want 400 %s", status, body, tt.code)
			}
		})
	}

	t.Run("public client", func(t *testing.T) {
		e := clientCredentialsEnv(t)
		e.store.PutClient(oidc.Client{ID: "spa", Public: true, RedirectURIs: []string{redirectURI}, GrantTypes: []string{"client_credentials"}})
		status, body, _ := e.token(form("client_id", "spa"), "", "")
		if status != 400 || body["error"] != "unauthorized_client" {
			t.Errorf("%d %v; want 400 unauthorized_client", status, body)
		}
	})
	t.Run("x/oauth2 sees the code", func(t *testing.T) {
		e := clientCredentialsEnv(t)
		_, err := e.serviceConfig("openid").Token(context.Background())
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
			t.Errorf("err %v; want RetrieveError invalid_scope", err)
		}
	})
}

// TestClientCredentialsIntrospectRevoke: the token introspects active for
// its client (any audience it was issued for), inactive for another and
// once the client may no longer use the grant; revoked, it is inactive.
func TestClientCredentialsIntrospectRevoke(t *testing.T) {
	e := clientCredentialsEnv(t)
	ctx := context.Background()
	plain, err := e.serviceConfig("invoices:read").Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cc := e.serviceConfig()
	cc.EndpointParams = url.Values{"audience": {apiAudience}}
	forAPI, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	introspect := func(token, id, secret string) map[string]any {
		t.Helper()
		status, body, _ := e.postBack(oidc.PathIntrospect, url.Values{"token": {token}}, id, secret)
		if status != 200 {
			t.Fatalf("introspect: %d %v", status, body)
		}
		return body
	}
	for name, tok := range map[string]*oauth2.Token{"default audience": plain, "api audience": forAPI} {
		body := introspect(tok.AccessToken, serviceID, serviceSecret)
		if body["active"] != true || body["sub"] != serviceID || body["client_id"] != serviceID || body["gty"] != "client_credentials" {
			t.Errorf("%s: %v; want active for %s", name, body, serviceID)
		}
		if body := introspect(tok.AccessToken, otherID, otherSecret); body["active"] != false {
			t.Errorf("%s introspected by another client: %v; want inactive", name, body)
		}
	}
	if body := introspect(plain.AccessToken, serviceID, serviceSecret); body["scope"] != "invoices:read" {
		t.Errorf("scope %v; want invoices:read", body["scope"])
	}

	// Another client may not revoke it (RFC 7009 §2.1).
	if status, body, _ := e.postBack(oidc.PathRevoke, url.Values{"token": {forAPI.AccessToken}}, otherID, otherSecret); status != 400 || body["error"] != "unauthorized_client" {
		t.Errorf("revoke by another client: %d %v; want unauthorized_client", status, body)
	}
	if status, body, _ := e.postBack(oidc.PathRevoke, url.Values{"token": {forAPI.AccessToken}}, serviceID, serviceSecret); status != 200 {
		t.Fatalf("revoke: %d %v", status, body)
	}
	if body := introspect(forAPI.AccessToken, serviceID, serviceSecret); body["active"] != false {
		t.Errorf("revoked token: %v; want inactive", body)
	}
	if body := introspect(plain.AccessToken, serviceID, serviceSecret); body["active"] != true {
		t.Errorf("the other token after a revocation: %v; want active", body)
	}

	// The client loses the grant: its tokens are inactive.
	e.store.PutClient(oidc.Client{ID: serviceID, SecretHash: oidc.HashSecret(serviceSecret), AllowedScopes: []string{"invoices:read"}})
	if body := introspect(plain.AccessToken, serviceID, serviceSecret); body["active"] != false {
		t.Errorf("after the grant was removed: %v; want inactive", body)
	}
}

// TestClientCredentialsUserInfo: userinfo refuses a client credentials
// token with 401 invalid_token (RFC 6750 §3.1): it has no user.
func TestClientCredentialsUserInfo(t *testing.T) {
	e := clientCredentialsEnv(t)
	ctx := context.Background()
	plain, err := e.serviceConfig().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cc := e.serviceConfig()
	cc.EndpointParams = url.Values{"resource": {apiAudience}}
	forAPI, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A user whose subject is the client id changes nothing.
	putUser(t, e.store, oidc.User{Subject: serviceID, Email: "svc@example.com", PasswordHash: passwordHash})
	for name, tok := range map[string]string{"default audience": plain.AccessToken, "api audience": forAPI.AccessToken} {
		p := e.userinfo(http.MethodGet, "Bearer "+tok, "")
		if p.status != http.StatusUnauthorized || !strings.Contains(p.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s: %d %q %s; want 401 invalid_token", name, p.status, p.header.Get("WWW-Authenticate"), p.body)
		}
	}
}

// TestClientCredentialsDiscovery: grant_types_supported lists
// client_credentials only when it is enabled.
func TestClientCredentialsDiscovery(t *testing.T) {
	for _, tt := range []struct {
		name string
		e    func(*testing.T) *env
		want bool
	}{
		{"default", func(t *testing.T) *env { return newEnv(t) }, false},
		{"enabled", clientCredentialsEnv, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.e(t)
			doc := decodeJSON(t, e.get(testClient, oidc.PathDiscovery, nil).body)
			if got := slices.Contains(stringList(doc["grant_types_supported"]), "client_credentials"); got != tt.want {
				t.Errorf("client_credentials in grant_types_supported %v: %v; want %v", doc["grant_types_supported"], got, tt.want)
			}
		})
	}
}
