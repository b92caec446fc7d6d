package browser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestPS256RelyingParty: a relying party that accepts PS256 alone (go-oidc
// with SupportedSigningAlgs [PS256]) signs in through Chromium: the
// provider, built from YAML with a generated local signer, signs its ID
// tokens PS256 (staticClients[].idTokenSigningAlg) and its userinfo
// responses too (userInfoSigningAlg: application/jwt, which go-oidc's
// UserInfo verifies through the JWKS); discovery keeps RS256 for the
// client that names no algorithm (OpenID Connect Core §15.1).
func TestPS256RelyingParty(t *testing.T) {
	codes := make(chan string, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case codes <- r.URL.Query().Get("code"):
		default:
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><title>callback</title><body data-state="done">signed in</body>`))
	}))
	t.Cleanup(cb.Close)
	redirect := cb.URL + "/callback"
	p := startProvider(t,
		client{ID: "fapi-app", Name: "PS256 App", RedirectURIs: []string{redirect}, IDTokenSigningAlg: oidc.PS256, UserInfoSigningAlg: oidc.PS256},
		client{ID: "plain-app", Name: "Plain App", RedirectURIs: []string{redirect}})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rp, err := gooidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		IDTokenAlgs  []string `json:"id_token_signing_alg_values_supported"`
		UserInfoAlgs []string `json:"userinfo_signing_alg_values_supported"`
	}
	if err := rp.Claims(&meta); err != nil || !slices.Contains(meta.IDTokenAlgs, oidc.PS256) || !slices.Contains(meta.IDTokenAlgs, oidc.RS256) ||
		!slices.Equal(meta.UserInfoAlgs, meta.IDTokenAlgs) {
		t.Fatalf("discovery: %+v, %v; want PS256 and RS256 for ID tokens and userinfo", meta, err)
	}
	endpoint := rp.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInParams
	cfg := oauth2.Config{ClientID: "fapi-app", RedirectURL: redirect, Endpoint: endpoint, Scopes: []string{gooidc.ScopeOpenID, "email"}}
	verifier := oauth2.GenerateVerifier()

	b := newBrowser(t)
	b.do("open the authorization URL", chromedp.Navigate(cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier))), chromedp.WaitVisible(chromedp.ID("login")))
	b.login(userEmail, userPassword)
	b.do("approve", chromedp.Click(chromedp.CSS(`button[name=approve]`)), chromedp.WaitVisible(chromedp.CSS(`body[data-state=done]`)))
	var code string
	select {
	case code = <-codes:
	case <-ctx.Done():
		t.Fatal("no code at the callback")
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.Verifier(&gooidc.Config{ClientID: "fapi-app", SupportedSigningAlgs: []string{oidc.PS256}}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("a PS256-only verifier rejects the ID token: %v", err)
	}
	if _, err := rp.Verifier(&gooidc.Config{ClientID: "fapi-app", SupportedSigningAlgs: []string{oidc.RS256}}).Verify(ctx, raw); err == nil {
		t.Error("an RS256-only verifier accepts the ID token; want PS256")
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	ui, err := rp.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo (application/jwt, verified by go-oidc): %v", err)
	}
	if ui.Email != userEmail || ui.Subject != idt.Subject {
		t.Errorf("userinfo %+v; want %s, sub %s", ui, userEmail, idt.Subject)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rp.UserInfoEndpoint(), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/jwt" {
		t.Errorf("userinfo Content-Type %q; want application/jwt", ct)
	}
}
