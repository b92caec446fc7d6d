package browser

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestDeviceFlow is the device authorization grant (RFC 8628) end to end:
// golang.org/x/oauth2 is the device (Config.DeviceAuth, then
// DeviceAccessToken polling at the interval), Chromium the user's browser
// on another "device": it opens verification_uri, types the user code in
// lower case without its dash, signs in with the password database and
// approves; the device gets an ID token go-oidc verifies, an access
// token and a refresh token.
func TestDeviceFlow(t *testing.T) {
	p := startProvider(t, client{ID: "tv-cli", Name: "TV App", RedirectURIs: []string{"http://127.0.0.1/unused"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rp, err := gooidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Device string `json:"device_authorization_endpoint"`
	}
	if err := rp.Claims(&meta); err != nil || meta.Device != p.Issuer+oidc.PathDeviceCode {
		t.Fatalf("discovery's device_authorization_endpoint %q, %v", meta.Device, err)
	}
	endpoint := rp.Endpoint()
	endpoint.DeviceAuthURL = meta.Device
	endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client: client_id alone
	cfg := oauth2.Config{ClientID: "tv-cli", Endpoint: endpoint, Scopes: []string{gooidc.ScopeOpenID, "email", gooidc.ScopeOfflineAccess}}
	auth, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if auth.VerificationURI != p.Issuer+oidc.PathDevice || len(auth.UserCode) != 9 || auth.Interval != 5 {
		t.Errorf("device authorization response %+v", auth)
	}
	type result struct {
		tok *oauth2.Token
		err error
	}
	polled := make(chan result, 1)
	go func() {
		tok, err := cfg.DeviceAccessToken(ctx, auth)
		polled <- result{tok, err}
	}()

	b := newBrowser(t)
	b.do("open verification_uri and type the user code",
		chromedp.Navigate(auth.VerificationURI),
		chromedp.WaitVisible(chromedp.ID("user_code")),
		chromedp.SendKeys(chromedp.ID("user_code"), strings.ToLower(strings.ReplaceAll(auth.UserCode, "-", ""))),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("login")),
	)
	b.login(userEmail, userPassword)
	warning := run(b, "read the approval page", chromedp.Evaluate[string](`(document.getElementById("device-warning") || {}).textContent || ""`))
	if !strings.Contains(warning, "A device asks for this access") {
		t.Errorf("the approval page does not say a device asks (RFC 8628 §5.4): %q", warning)
	}
	b.do("approve", chromedp.Click(chromedp.CSS(`button[name=approve]`)), chromedp.WaitVisible(chromedp.ID("device-result")))
	if h := run(b, "read the last page", chromedp.Evaluate[string](`document.body.innerText`)); !strings.Contains(h, "You may return to your device") {
		t.Errorf("last page: %q", h)
	}

	r := <-polled
	if r.err != nil {
		t.Fatalf("DeviceAccessToken: %v", r.err)
	}
	raw, _ := r.tok.Extra("id_token").(string)
	idt, err := rp.Verifier(&gooidc.Config{ClientID: "tv-cli"}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email != userEmail {
		t.Errorf("ID token email %q, %v; want %s", claims.Email, err, userEmail)
	}
	if r.tok.AccessToken == "" || r.tok.RefreshToken == "" {
		t.Errorf("token %+v: want an access token and a refresh token", r.tok)
	}
	// The device code is spent: a second DeviceAccessToken fails.
	if _, err := cfg.DeviceAccessToken(ctx, auth); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("second DeviceAccessToken: %v; want invalid_grant", err)
	}
	// The refresh token works as one from the code flow.
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: r.tok.RefreshToken}).Token(); err != nil {
		t.Errorf("refresh: %v", err)
	}
}
