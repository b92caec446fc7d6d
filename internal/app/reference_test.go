package app

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestDexReferenceConfig: Dex's reference configuration with every option
// it documents switched on (testdata/dex-reference.yaml) loads unchanged,
// with exactly the warnings docs/configuration.md documents for keys that
// cannot apply here, and serves a full code flow for its example client
// and user, verified by go-oidc and golang.org/x/oauth2.
func TestDexReferenceConfig(t *testing.T) {
	raw, err := os.ReadFile("testdata/dex-reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String() + "/dex"
	env := map[string]string{"DEX_CLIENT_ID": "production-app", "DEX_CLIENT_SECRET": "cHJvZHVjdGlvbi1zZWNyZXQ"}
	cfg, err := config.Parse([]byte(strings.ReplaceAll(string(raw), "ISSUER", issuer)), "dex-reference.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("Dex's reference configuration does not load:\n%v", err)
	}
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, w.String())
	}
	if !slices.Equal(got, dexReferenceWarnings) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(dexReferenceWarnings, "\n"))
	}

	p, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler), allBackends)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)

	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	// The reference lists plain among codeChallengeMethodsSupported: it is
	// never enabled (RFC 9700 §2.1.1).
	var meta struct {
		Methods []string `json:"code_challenge_methods_supported"`
	}
	if err := provider.Claims(&meta); err != nil || !slices.Equal(meta.Methods, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v (%v); want [S256]", meta.Methods, err)
	}
	rp := oauth2.Config{ClientID: "example-app", ClientSecret: "ZXhhbXBsZS1hcHAtc2VjcmV0", Endpoint: provider.Endpoint(),
		RedirectURL: "http://127.0.0.1:5555/callback", Scopes: []string{gooidc.ScopeOpenID, "email", "profile", "groups", gooidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	loc, err := oidctest.NewBrowser().Authorize(rp.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "user@example.com", "password")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect %s; want a code and the state", loc.Redacted())
	}
	tok, err := rp.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: "example-app"}).Verify(ctx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Email             string   `json:"email"`
		Name              string   `json:"name"`
		PreferredUsername string   `json:"preferred_username"`
		Groups            []string `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	// Dex's subject: the user id encoded with the connector id, local.
	if idt.Subject != oidc.Subject("08a8684b-db88-4b73-90a9-3cd1661f5466", oidc.ConnectorLocal) || claims.Email != "user@example.com" || claims.Name != "User Full Name" ||
		claims.PreferredUsername != "user-public" || !slices.Equal(claims.Groups, []string{"team-a", "team-a/admins"}) {
		t.Errorf("ID token: sub %q, claims %+v", idt.Subject, claims)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token with offline_access")
	}
}

// dexReferenceWarnings are the warnings of testdata/dex-reference.yaml, in
// file order: every key of Dex's reference that cannot apply here, each
// with why (docs/configuration.md, "Keys that load with a warning").
var dexReferenceWarnings = []string{
	`dex-reference.yaml:12: web.https: has no effect (TLS is terminated in front of the provider, by API Gateway or a proxy)`,
	`dex-reference.yaml:13: web.tlsCert: has no effect (TLS is terminated in front of the provider, by API Gateway or a proxy)`,
	`dex-reference.yaml:14: web.tlsKey: has no effect (TLS is terminated in front of the provider, by API Gateway or a proxy)`,
	`dex-reference.yaml:15: web.tlsMinVersion: has no effect (TLS is terminated in front of the provider, by API Gateway or a proxy)`,
	`dex-reference.yaml:16: web.tlsMaxVersion: has no effect (TLS is terminated in front of the provider, by API Gateway or a proxy)`,
	`dex-reference.yaml:20: frontend.logoURL: "theme/logo.png": has no effect (frontend.dir is not set: no file is served at /theme/logo.png)`,
	`dex-reference.yaml:24: telemetry: has no effect (there is no telemetry listener; metrics and logs go to CloudWatch)`,
	`dex-reference.yaml:30: logger.excludeFields: has no effect (no log line carries user attributes (email, username, preferred_username, groups))`,
	`dex-reference.yaml:32: grpc: has no effect (there is no gRPC API; clients and users come from this file and oidcctl)`,
	`dex-reference.yaml:40: expiry.signingKeys: has no effect (deprecated in Dex too: signer.config.keysRotationPeriod rotates the local key; KMS keys are rotated by the operator)`,
	`dex-reference.yaml:55: sessions.cookieName: has no effect (the session cookie's name is fixed: oidc_session, with the __Host- prefix on https)`,
	`dex-reference.yaml:58: sessions.rememberMeCheckedByDefault: has no effect (there is no remember-me box: the session is always kept, until it expires or the user logs out)`,
	`dex-reference.yaml:59: sessions.cookieEncryptionKey: has no effect (the cookie holds only a random 256-bit handle, stored hashed: there is nothing in it to encrypt)`,
	`dex-reference.yaml:69: oauth2.pkce.codeChallengeMethodsSupported[1]: has no effect: plain is never enabled (RFC 9700 §2.1.1); only S256 is offered`,
	`dex-reference.yaml:92: staticClients[3].allowedConnectors: names no connector that exists (connector ids: local): this client's authorization requests are refused (access_denied)`,
	`dex-reference.yaml:101: staticClients[4].ssoSharedWith[0]: has no effect ("dashboard-app" is not the id of a static client; clients come only from this file)`,
	`dex-reference.yaml:102: staticClients[4].ssoSharedWith[1]: has no effect ("admin-app" is not the id of a static client; clients come only from this file)`,
}
