package oauth_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/pkg/oidc"
)

var offline = oidc.ConnectorScopes{Groups: true, OfflineAccess: true}

// TestContract: logins and refreshes through the upstream (this
// provider), as every connector type passes them.
func TestContract(t *testing.T) {
	connectortest.Contract(t, func(t *testing.T, u *connectortest.Upstream) connectortest.Connector {
		return open(t, upstreamConfig(u), 5*time.Second)
	})
}

// TestLoginURL: PKCE S256 always, and the state.
func TestLoginURL(t *testing.T) {
	c := open(t, upstreamConfig(connectortest.NewUpstream(t)), 5*time.Second)
	loginURL, _, err := c.LoginURL(t.Context(), offline, connectortest.CallbackURL, "st")
	if err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, loginURL); q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") != "st" {
		t.Errorf("login URL query %v; want PKCE S256 and the state", q)
	}
}

// TestRefreshWithoutRefreshToken: an access token alone is used on
// userinfo; refused there (401), the user is gone.
func TestRefreshWithoutRefreshToken(t *testing.T) {
	up := connectortest.NewUpstream(t)
	c := open(t, upstreamConfig(up), 5*time.Second)
	id := oidc.Identity{UserID: "x", ConnectorData: []byte(`{"accessToken":"not-a-token"}`)}
	if _, err := c.Refresh(t.Context(), offline, id); !errors.Is(err, oidc.ErrUserGone) {
		t.Errorf("Refresh with a refused access token: %v; want ErrUserGone", err)
	}
	if _, err := c.Refresh(t.Context(), offline, oidc.Identity{UserID: "x"}); err == nil || errors.Is(err, oidc.ErrUserGone) {
		t.Errorf("Refresh without data: %v; want an error, not ErrUserGone", err)
	}
}

func TestCallbackRefused(t *testing.T) {
	up := connectortest.NewUpstream(t)
	c := open(t, upstreamConfig(up), 5*time.Second)
	loginURL, data, _ := c.LoginURL(t.Context(), offline, connectortest.CallbackURL, "st")
	cb := connectortest.Browse(t, loginURL, false)
	// Another login's verifier: the upstream refuses the code (PKCE).
	_, other, _ := c.LoginURL(t.Context(), offline, connectortest.CallbackURL, "st")
	var ue *oidc.UpstreamError
	if _, err := c.HandleCallback(t.Context(), offline, other, connectortest.CallbackRequest(t, cb)); !errors.As(err, &ue) {
		t.Errorf("code with a wrong verifier: %v; want an UpstreamError", err)
	}
	// The right verifier redeems it, once (RFC 6749 §4.1.2: single use).
	if _, err := c.HandleCallback(t.Context(), offline, data, connectortest.CallbackRequest(t, cb)); err != nil {
		t.Errorf("code with its verifier: %v", err)
	}
	if _, err := c.HandleCallback(t.Context(), offline, data, connectortest.CallbackRequest(t, cb)); !errors.As(err, &ue) {
		t.Errorf("code used twice: %v; want an UpstreamError", err)
	}
	for _, q := range []string{"error=server_error&error_description=boom", "error=%3Cb%3E", "state=st"} {
		cb, _ := url.Parse(connectortest.CallbackURL + "?" + q)
		_, err := c.HandleCallback(t.Context(), offline, data, connectortest.CallbackRequest(t, cb))
		if !errors.As(err, &ue) || strings.ContainsAny(ue.Reason, "<>") || strings.Contains(ue.Reason, "boom") {
			t.Errorf("%s: %v; want an UpstreamError with a safe reason", q, err)
		}
	}
}

func TestUnavailable(t *testing.T) {
	up := connectortest.NewUpstream(t)
	tests := []struct {
		name    string
		fail    int
		delay   time.Duration
		refresh bool
	}{
		{"token endpoint 503", http.StatusServiceUnavailable, 0, false},
		{"token endpoint timeout", 0, 500 * time.Millisecond, false},
		{"refresh 502", http.StatusBadGateway, 0, true},
		{"refresh timeout", 0, 500 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := open(t, upstreamConfig(up), 250*time.Millisecond)
			id, err := connectortest.Login(t, c, offline)
			if err != nil {
				t.Fatal(err)
			}
			loginURL, data, _ := c.LoginURL(t.Context(), offline, connectortest.CallbackURL, "st")
			r := connectortest.CallbackRequest(t, connectortest.Browse(t, loginURL, false))
			up.Fail.Store(int32(tt.fail))
			up.Delay.Store(int64(tt.delay))
			if tt.refresh {
				_, err = c.Refresh(t.Context(), offline, id)
			} else {
				_, err = c.HandleCallback(t.Context(), offline, data, r)
			}
			up.Fail.Store(0)
			up.Delay.Store(0)
			if !errors.Is(err, oidc.ErrUnavailable) {
				t.Errorf("got %v; want ErrUnavailable", err)
			}
		})
	}
	// Nobody listening.
	cfg := upstreamConfig(up)
	cfg.TokenURL = "http://127.0.0.1:1/token"
	c := open(t, cfg, time.Second)
	loginURL, data, _ := c.LoginURL(t.Context(), offline, connectortest.CallbackURL, "st")
	r := connectortest.CallbackRequest(t, connectortest.Browse(t, loginURL, false))
	if _, err := c.HandleCallback(t.Context(), offline, data, r); !errors.Is(err, oidc.ErrUnavailable) {
		t.Errorf("closed port: %v; want ErrUnavailable", err)
	}
}

// TestTokenRefusedWithoutCode: a 4xx token answer without an OAuth error
// code is a refusal, not an outage, although oauth2's text for it starts
// as a failed read does.
func TestTokenRefusedWithoutCode(t *testing.T) {
	up := connectortest.NewUpstream(t)
	c := open(t, upstreamConfig(up), 5*time.Second)
	id, err := connectortest.Login(t, c, offline)
	if err != nil {
		t.Fatal(err)
	}
	loginURL, data, _ := c.LoginURL(t.Context(), offline, connectortest.CallbackURL, "st")
	r := connectortest.CallbackRequest(t, connectortest.Browse(t, loginURL, false))
	up.Fail.Store(http.StatusBadRequest)
	defer up.Fail.Store(0)
	var ue *oidc.UpstreamError
	if _, err := c.HandleCallback(t.Context(), offline, data, r); !errors.As(err, &ue) || errors.Is(err, oidc.ErrUnavailable) {
		t.Errorf("HandleCallback: %v; want an UpstreamError, not ErrUnavailable", err)
	}
	if _, err := c.Refresh(t.Context(), offline, id); err == nil || errors.Is(err, oidc.ErrUnavailable) || errors.Is(err, oidc.ErrUserGone) {
		t.Errorf("Refresh: %v; want an error, neither ErrUnavailable nor ErrUserGone", err)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
