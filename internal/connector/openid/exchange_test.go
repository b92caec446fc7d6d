package openid_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Token exchange (RFC 8693) with Dex's connector_id: a downstream
// provider (pkg/oidc on a loopback server, the memory store) with this
// connector to the upstream (this provider again, connectortest) takes
// the upstream's tokens, which a real login at the upstream produced.

const (
	cliID, cliSecret = "cli", "Y2xpLXNlY3JldC12YWx1ZS1mb3ItdGVzdHM"
	peerID           = "peer"  // trusts cli (trustedPeers)
	boundID          = "bound" // allowed only the strict connector
	apiAudience      = "https://api.example.com"
)

var downstreamSigner, _ = local.Generate()

// downstream is the provider that exchanges the upstream's tokens.
type downstream struct {
	URL   string
	Store *memory.Store
	logs  *logBuffer
}

// logBuffer is what the downstream logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newDownstream starts a provider with two connectors to u: upstream
// (groups enabled) and strict (allowedGroups: nobody).
func newDownstream(t *testing.T, u *connectortest.Upstream) *downstream {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	d := &downstream{URL: "http://" + srv.Listener.Addr().String(), Store: memory.New(time.Now), logs: &logBuffer{}}
	grants := []string{oidc.GrantTokenExchange}
	d.Store.PutClient(oidc.Client{ID: cliID, SecretHash: oidc.HashSecret(cliSecret), GrantTypes: grants, AllowedAudiences: []string{apiAudience}})
	d.Store.PutClient(oidc.Client{ID: peerID, SecretHash: oidc.HashSecret(cliSecret), TrustedPeers: []string{cliID}})
	d.Store.PutClient(oidc.Client{ID: boundID, SecretHash: oidc.HashSecret(cliSecret), GrantTypes: grants, AllowedConnectors: []string{"strict"}})
	strict := upstreamConfig(u)
	strict.AllowedGroups = []string{"nobody"}
	p, err := oidc.New(oidc.Config{
		Settings: oidc.Settings{Issuer: d.URL, Now: time.Now, Logger: slog.New(slog.NewTextHandler(d.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			GrantTypes: []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantTokenExchange}},
		Clients: d.Store, Users: d.Store, AuthRequests: d.Store, Codes: d.Store, Refresh: d.Store, Revocations: d.Store,
		Sessions: d.Store, Consents: d.Store, Attempts: d.Store, Signer: downstreamSigner, ConnectorStates: d.Store, Identities: d.Store,
		Connectors: []oidc.Connector{
			{ID: "upstream", Type: "oidc", Name: "Upstream", Callback: open(t, upstreamConfig(u))},
			{ID: "strict", Type: "oidc", Name: "Strict", Callback: open(t, strict)},
		},
	})
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return d
}

// exchange posts a token exchange to d as client id with form's extra
// parameters, and returns the status and the JSON body.
func (d *downstream) exchange(t *testing.T, id, subject, subjectType string, extra url.Values) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {oidc.GrantTokenExchange}, "subject_token": {subject}, "subject_token_type": {subjectType}, "connector_id": {"upstream"}}
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, d.URL+oidc.PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, cliSecret)
	resp, err := connectortest.Client(5 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token response: %v", err)
	}
	return resp.StatusCode, body
}

// userSub is the user's sub downstream: Dex's subject of its upstream sub
// at the connector upstream.
var userSub = oidc.Subject(oidc.Subject(connectortest.UserSubject, oidc.ConnectorLocal), "upstream")

// TestTokenExchangeUpstream: an upstream ID token and an upstream access
// token become this provider's access token for the same user, who is
// recorded as at a login (userinfo answers from the record); an ID token
// is issued for a trusting peer, verified by go-oidc as that peer.
func TestTokenExchangeUpstream(t *testing.T) {
	u := connectortest.NewUpstream(t)
	d := newDownstream(t, u)
	idToken, accessToken := u.Tokens(t, connectortest.ClientID, connectortest.ClientSecret)
	for name, sub := range map[string][2]string{"id token": {idToken, oidc.TokenTypeIDToken}, "access token": {accessToken, oidc.TokenTypeAccessToken}} {
		status, body := d.exchange(t, cliID, sub[0], sub[1], url.Values{"scope": {"openid email groups offline_access"}})
		if status != 200 || body["issued_token_type"] != oidc.TokenTypeAccessToken || body["token_type"] != "Bearer" ||
			body["refresh_token"] != nil || body["scope"] != "openid email groups" {
			t.Fatalf("%s: %d %v", name, status, body)
		}
		req, _ := http.NewRequest(http.MethodGet, d.URL+oidc.PathUserInfo, nil)
		req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
		resp, err := connectortest.Client(5 * time.Second).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var info map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if resp.StatusCode != 200 || info["sub"] != userSub || info["email"] != connectortest.UserEmail || len(info["groups"].([]any)) != 2 {
			t.Errorf("%s: userinfo %d %v; want the upstream user as %s", name, resp.StatusCode, info, userSub)
		}
	}
	if _, err := d.Store.Identity(t.Context(), userSub); err != nil {
		t.Errorf("the identity record: %v", err)
	}

	status, body := d.exchange(t, cliID, idToken, oidc.TokenTypeIDToken, url.Values{"requested_token_type": {oidc.TokenTypeIDToken},
		"audience": {peerID}, "scope": {"openid email"}})
	if status != 200 || body["issued_token_type"] != oidc.TokenTypeIDToken || body["token_type"] != "N_A" {
		t.Fatalf("id token: %d %v", status, body)
	}
	ctx := gooidc.ClientContext(t.Context(), connectortest.Client(5*time.Second))
	provider, err := gooidc.NewProvider(ctx, d.URL)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&gooidc.Config{ClientID: peerID}).Verify(ctx, body["access_token"].(string))
	if err != nil {
		t.Fatalf("the peer verifies the ID token: %v", err)
	}
	var claims struct {
		Azp, Email string
	}
	if err := idt.Claims(&claims); err != nil || idt.Subject != userSub || len(idt.Audience) != 1 || claims.Azp != cliID || claims.Email != connectortest.UserEmail {
		t.Errorf("ID token: sub %s aud %v claims %+v (%v); want aud peer, azp cli", idt.Subject, idt.Audience, claims, err)
	}
}

// TestTokenExchangeUpstreamRefused: every refusal of an upstream token
// exchange, with its RFC code; the upstream down is temporarily_unavailable.
func TestTokenExchangeUpstreamRefused(t *testing.T) {
	u := connectortest.NewUpstream(t)
	d := newDownstream(t, u)
	u.Store.PutClient(oidc.Client{ID: "stranger", SecretHash: oidc.HashSecret(cliSecret), RedirectURIs: []string{connectortest.CallbackURL}})
	idToken, accessToken := u.Tokens(t, connectortest.ClientID, connectortest.ClientSecret)
	strangerID, _ := u.Tokens(t, "stranger", cliSecret)
	otherID, _ := connectortest.NewUpstream(t).Tokens(t, connectortest.ClientID, connectortest.ClientSecret)
	tamperedID := idToken[:len(idToken)-4] + "AAAA"
	for _, tt := range []struct {
		name, client, subject, typ string
		extra                      url.Values
		want                       string
	}{
		{"tampered ID token", cliID, tamperedID, oidc.TokenTypeIDToken, nil, "invalid_request"},
		{"ID token of another client upstream", cliID, strangerID, oidc.TokenTypeIDToken, nil, "invalid_request"},
		{"ID token of another issuer", cliID, otherID, oidc.TokenTypeIDToken, nil, "invalid_request"},
		{"ID token as an access token", cliID, idToken, oidc.TokenTypeAccessToken, nil, "invalid_request"},
		{"access token as an ID token", cliID, accessToken, oidc.TokenTypeIDToken, nil, "invalid_request"},
		{"unknown access token", cliID, "not-an-access-token", oidc.TokenTypeAccessToken, nil, "invalid_request"},
		{"allowedGroups", cliID, idToken, oidc.TokenTypeIDToken, url.Values{"connector_id": {"strict"}}, "invalid_request"},
		{"connector not allowed for the client", boundID, idToken, oidc.TokenTypeIDToken, nil, "unauthorized_client"},
		{"unknown connector", cliID, idToken, oidc.TokenTypeIDToken, url.Values{"connector_id": {"nope"}}, "invalid_request"},
		{"client without the grant", peerID, idToken, oidc.TokenTypeIDToken, nil, "unauthorized_client"},
		{"ID token without openid", cliID, idToken, oidc.TokenTypeIDToken, url.Values{"requested_token_type": {oidc.TokenTypeIDToken}, "scope": {"email"}}, "invalid_scope"},
		{"ID token for an untrusting client", cliID, idToken, oidc.TokenTypeIDToken, url.Values{"requested_token_type": {oidc.TokenTypeIDToken}, "audience": {boundID}}, "invalid_target"},
		{"access token for a foreign audience", cliID, idToken, oidc.TokenTypeIDToken, url.Values{"audience": {"https://evil.example.com"}}, "invalid_target"},
		{"audience scope of an untrusting client", cliID, idToken, oidc.TokenTypeIDToken, url.Values{"scope": {"openid audience:server:client_id:" + boundID}}, "invalid_scope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := d.exchange(t, tt.client, tt.subject, tt.typ, tt.extra)
			if status != 400 || body["error"] != tt.want || body["access_token"] != nil {
				t.Errorf("%d %v; want 400 %s", status, body, tt.want)
			}
		})
	}
	if status, body := d.exchange(t, cliID, idToken, oidc.TokenTypeIDToken, url.Values{"audience": {apiAudience}}); status != 200 {
		t.Errorf("an allowed audience: %d %v", status, body)
	}
	u.Fail.Store(http.StatusServiceUnavailable)
	if status, body := d.exchange(t, cliID, accessToken, oidc.TokenTypeAccessToken, nil); status != 503 || body["error"] != "temporarily_unavailable" {
		t.Errorf("upstream down: %d %v; want 503 temporarily_unavailable", status, body)
	}
	logs := d.logs.String()
	for _, secret := range []string{idToken, accessToken, strangerID, otherID, cliSecret, strings.Split(idToken, ".")[2]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("a token or secret in the log:\n%s", logs)
		}
	}
	if !strings.Contains(logs, "subject token refused") {
		t.Errorf("the refusals are not logged:\n%s", logs)
	}
}
