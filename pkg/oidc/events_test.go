package oidc_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// eventLog records the security events a provider reports.
type eventLog struct {
	mu     sync.Mutex
	events []oidc.SecurityEvent
}

func (l *eventLog) record(_ context.Context, e oidc.SecurityEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) take() []oidc.SecurityEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// withEvents is a newEnv option reporting security events to l.
func withEvents(l *eventLog) func(*oidc.Config) {
	return func(c *oidc.Config) { c.OnSecurityEvent = l.record }
}

func wantEvents(t *testing.T, what string, got []oidc.SecurityEvent, want ...oidc.SecurityEvent) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: events %v; want %v", what, got, want)
	}
}

// TestSecurityEventRefreshReuse: a rotated refresh token presented after
// the reuse interval reports EventRefreshTokenReuse, once; normal use and
// a retry within the interval report nothing.
func TestSecurityEventRefreshReuse(t *testing.T) {
	log := &eventLog{}
	e := newEnv(t, withEvents(log))
	rt1 := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
	status, second := e.refresh(rt1, nil)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, second)
	}
	if status, _ := e.refresh(rt1, nil); status != http.StatusOK {
		t.Fatalf("retry within the reuse interval: %d", status)
	}
	wantEvents(t, "rotation and a retry", log.take())
	e.clock.Advance(4 * time.Second)
	if status, body := e.refresh(rt1, nil); status != http.StatusBadRequest || body["error"] != oidc.ErrCodeInvalidGrant {
		t.Fatalf("reuse: %d %v; want invalid_grant", status, body)
	}
	wantEvents(t, "reuse", log.take(), oidc.EventRefreshTokenReuse)
	// The family is revoked: its current token is refused as revoked,
	// which is not a reuse.
	if status, _ := e.refresh(second["refresh_token"].(string), nil); status != http.StatusBadRequest {
		t.Fatalf("current token after reuse: %d; want 400", status)
	}
	if got := log.take(); slices.Contains(got, oidc.EventAuthorizationCodeReplay) {
		t.Errorf("events after reuse %v", got)
	}
}

// TestSecurityEventCodeReplay: a second redemption of a code reports
// EventAuthorizationCodeReplay.
func TestSecurityEventCodeReplay(t *testing.T) {
	log := &eventLog{}
	e := newEnv(t, withEvents(log))
	code, verifier := e.pkceCode(confidentialID)
	if status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret); status != http.StatusOK {
		t.Fatalf("redemption: %d %v", status, body)
	}
	wantEvents(t, "redemption", log.take())
	if status, _, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret); status != http.StatusBadRequest {
		t.Fatalf("replay: %d; want 400", status)
	}
	wantEvents(t, "replay", log.take(), oidc.EventAuthorizationCodeReplay)
}

// TestSecurityEventDPoPReplay: a DPoP proof presented twice reports
// EventDPoPProofReplay at its second use.
func TestSecurityEventDPoPReplay(t *testing.T) {
	log := &eventLog{}
	e := newEnv(t, withEvents(log))
	key := newDPoPKey(t)
	code, verifier := e.pkceCode(publicID)
	form := codeForm(code, verifier)
	form.Set("client_id", publicID)
	status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", key.proof(t, "POST", e.issuer+oidc.PathToken, "", e.clock.Now(), nil))
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, body)
	}
	at := body["access_token"].(string)
	proof := key.proof(t, "GET", e.issuer+oidc.PathUserInfo, at, e.clock.Now(), nil)
	if status, _, _ := e.userinfoDPoP("DPoP", at, proof); status != http.StatusOK {
		t.Fatalf("userinfo: %d", status)
	}
	wantEvents(t, "first use", log.take())
	if status, _, _ := e.userinfoDPoP("DPoP", at, proof); status != http.StatusUnauthorized {
		t.Fatalf("replayed proof: %d; want 401", status)
	}
	wantEvents(t, "replayed proof", log.take(), oidc.EventDPoPProofReplay)
}

// TestSecurityEventClientAssertionReplay: a private_key_jwt assertion
// presented twice reports EventClientAssertionReplay.
func TestSecurityEventClientAssertionReplay(t *testing.T) {
	log := &eventLog{}
	e := newEnv(t, withEvents(log))
	key := newJWTKey(t, jose.ES256, "k1")
	e.store.PutClient(oidc.Client{ID: jwtClientID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"})
	assertion := key.assertion(t, e.issuer, e.clock.Now(), nil)
	if status, body := e.introspectAs(assertionForm(assertion)); status != http.StatusOK {
		t.Fatalf("first use: %d %v", status, body)
	}
	wantEvents(t, "first use", log.take())
	if status, _ := e.introspectAs(assertionForm(assertion)); status != http.StatusUnauthorized {
		t.Fatalf("replay: %d; want 401", status)
	}
	wantEvents(t, "replay", log.take(), oidc.EventClientAssertionReplay)
}

// TestSecurityEventConnectorBrowserMismatch: an upstream's answer in
// another browser than the login's reports EventConnectorBrowserMismatch.
func TestSecurityEventConnectorBrowserMismatch(t *testing.T) {
	log := &eventLog{}
	e, sc := upstreamEnv(t, withEvents(log))
	sc.logins["good"] = corpUser
	state := e.toUpstream(e.browser(), authParams())
	if p := e.callback(e.browser(), state, "good"); p.status != http.StatusForbidden {
		t.Fatalf("callback in another browser: %d; want 403", p.status)
	}
	wantEvents(t, "another browser", log.take(), oidc.EventConnectorBrowserMismatch)
}
