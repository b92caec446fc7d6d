package browser

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

const (
	ordersAPI  = "https://orders.example.com"
	reportsAPI = "https://reports.example.com"
)

// resourceServers is the YAML of two APIs allowed to client id: orders
// (two scopes) and reports (two scopes, one of which no test asks for).
func resourceServers(id string) string {
	return fmt.Sprintf(`resourceServers:
  - id: %[2]s
    name: Orders API
    scopes:
      - {name: "orders:read", description: Read your orders}
      - {name: "orders:write", description: Place orders for you}
    allowedClients: [%[1]s]
  - id: %[3]s
    name: Reports API
    scopes:
      - {name: "reports:read", description: Read your reports}
      - {name: "reports:export", description: Export your reports}
    allowedClients: [%[1]s]
`, id, ordersAPI, reportsAPI)
}

// consentAPI is one API as the approval page lists it.
type consentAPI struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"` // each "<scope>: <description>"
}

// TestConsentListsAPIScopes: a client asks for two APIs (resource twice,
// RFC 8707) and three of their scopes; in Chromium, after the login, the
// approval page lists each API by name with the scopes asked for and their
// descriptions, and no scope that was not asked for. Approving sends the
// code to the client, whose token covers exactly what the page listed.
func TestConsentListsAPIScopes(t *testing.T) {
	b := newBrowser(t)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>callback</title><body data-state="done">signed in</body>`)
	}))
	t.Cleanup(callback.Close)
	redirect := callback.URL + "/callback"
	p := startProviderWith(t, func(string) string { return resourceServers("orders-app") },
		client{ID: "orders-app", Name: "Orders App", RedirectURIs: []string{redirect}})
	cfg := oauth2.Config{ClientID: "orders-app", RedirectURL: redirect,
		Scopes:   []string{"openid", "orders:read", "orders:write", "reports:read"},
		Endpoint: oauth2.Endpoint{AuthURL: p.Issuer + "/authorize", TokenURL: p.Issuer + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier)) +
		"&resource=" + url.QueryEscape(ordersAPI) + "&resource=" + url.QueryEscape(reportsAPI)

	b.do("open the authorization request", chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("login")))
	b.login(userEmail, userPassword)
	b.screenshot("consent-apis.png")
	apis := run(b, "read the APIs on the approval page", chromedp.Evaluate[[]consentAPI](
		`[...document.querySelectorAll("section.api")].map(s => ({
			name: s.querySelector(".api-name").textContent,
			scopes: [...s.querySelectorAll(".api-scopes li")].map(li => li.textContent.trim())}))`))
	want := []consentAPI{
		{"Orders API", []string{"orders:read: Read your orders", "orders:write: Place orders for you"}},
		{"Reports API", []string{"reports:read: Read your reports"}},
	}
	if !slices.EqualFunc(apis, want, func(a, b consentAPI) bool { return a.Name == b.Name && slices.Equal(a.Scopes, b.Scopes) }) {
		t.Errorf("the approval page lists %+v; want %+v", apis, want)
	}
	if text := run(b, "read the page", chromedp.Evaluate[string](`document.body.innerText`)); strings.Contains(text, "reports:export") {
		t.Error("the approval page lists a scope that was not asked for")
	}

	b.do("approve", chromedp.Click(chromedp.CSS(`button[name=approve]`)), chromedp.WaitReady(chromedp.CSS(`body[data-state=done]`)))
	loc, err := url.Parse(run(b, "read the callback", chromedp.Location()))
	if err != nil || loc.Query().Get("state") != "st-1" {
		t.Fatalf("callback %v (%v)", loc, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier),
		oauth2.SetAuthURLParam("resource", ordersAPI))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	// The signature and the rest are e2e/resource's; here: what was approved.
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, claims); err != nil {
		t.Fatal(err)
	}
	if aud, _ := claims.GetAudience(); !slices.Equal(aud, []string{ordersAPI}) || claims["scope"] != "orders:read orders:write" {
		t.Errorf("code redeemed for the orders API: aud %q, scope %q; want [%s], orders:read orders:write", aud, claims["scope"], ordersAPI)
	}
}
