package openid_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/pkg/oidc"
)

var offline = oidc.ConnectorScopes{OfflineAccess: true, Groups: true}

// TestContract: logins and refreshes through the upstream (this
// provider), as every connector type passes them.
func TestContract(t *testing.T) {
	connectortest.Contract(t, func(t *testing.T, u *connectortest.Upstream) connectortest.Connector {
		return open(t, upstreamConfig(u))
	})
}

// TestLogin: the authorization request, with PKCE and a nonce, and the
// answer with RFC 9207 iss; the identity is TestContract's.
func TestLogin(t *testing.T) {
	u := connectortest.NewUpstream(t)
	k := open(t, upstreamConfig(u))
	loginURL, data, err := k.LoginURL(t.Context(), offline, connectortest.CallbackURL, "state-123")
	if err != nil {
		t.Fatal(err)
	}
	q := mustQuery(t, loginURL)
	var d struct{ N, V string }
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"state": "state-123", "nonce": d.N, "code_challenge_method": "S256",
		"redirect_uri": connectortest.CallbackURL, "prompt": "consent", "client_id": connectortest.ClientID, "response_type": "code"} {
		if got := q.Get(key); got != want || want == "" {
			t.Errorf("%s = %q; want %q", key, got, want)
		}
	}
	if d.V == "" || len(d.N) < 43 || q.Get("code_challenge") == "" {
		t.Errorf("no PKCE verifier or nonce in the data: %s", data)
	}
	if scope := strings.Fields(q.Get("scope")); !slices.Equal(scope, []string{"openid", "profile", "email", "offline_access", "groups"}) {
		t.Errorf("scope %q", scope)
	}
	cb := connectortest.Browse(t, loginURL, false)
	if cb.Query().Get("iss") != u.URL {
		t.Errorf("the upstream sent iss %q", cb.Query().Get("iss"))
	}
	id, err := k.HandleCallback(t.Context(), offline, data, connectortest.CallbackRequest(t, cb))
	if err != nil {
		t.Fatalf("HandleCallback: %v", err)
	}
	var cd map[string]string
	if err := json.Unmarshal(id.ConnectorData, &cd); err != nil || cd["rt"] == "" {
		t.Errorf("connector data %s: no refresh token (%v)", id.ConnectorData, err)
	}
}

// TestLoginNoOffline: without offline access no prompt is sent; without
// the groups scope, the groups scope is not asked for.
func TestLoginNoOffline(t *testing.T) {
	k := open(t, upstreamConfig(connectortest.NewUpstream(t)))
	loginURL, _, err := k.LoginURL(t.Context(), oidc.ConnectorScopes{}, connectortest.CallbackURL, "s")
	if err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, loginURL); q.Has("prompt") || strings.Contains(q.Get("scope"), "offline_access") || strings.Contains(q.Get("scope"), "groups") {
		t.Errorf("login URL %s asks for offline access or groups", loginURL)
	}
}

// TestLoginForced: a client's prompt=login (ForceLogin) asks the upstream
// for a fresh authentication too, beside the consent prompt of offline
// access.
func TestLoginForced(t *testing.T) {
	k := open(t, upstreamConfig(connectortest.NewUpstream(t)))
	for sc, want := range map[oidc.ConnectorScopes]string{
		{ForceLogin: true}:                      "login",
		{ForceLogin: true, OfflineAccess: true}: "consent login",
	} {
		loginURL, _, err := k.LoginURL(t.Context(), sc, connectortest.CallbackURL, "s")
		if err != nil {
			t.Fatal(err)
		}
		if got := mustQuery(t, loginURL).Get("prompt"); got != want {
			t.Errorf("%+v: prompt %q; want %q", sc, got, want)
		}
	}
}

// TestRefreshOutsideAllowedGroups: a user moved out of allowedGroups
// upstream is gone at refresh.
func TestRefreshOutsideAllowedGroups(t *testing.T) {
	u := connectortest.NewUpstream(t)
	c := upstreamConfig(u)
	c.AllowedGroups = []string{"admins"}
	k := open(t, c)
	id, err := connectortest.Login(t, k, offline)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(id.Groups, []string{"admins"}) {
		t.Errorf("groups %q; want those allowed: [admins]", id.Groups)
	}
	u.PutUser(t, []string{"staff"}, true)
	if _, err := k.Refresh(t.Context(), offline, id); !errors.Is(err, oidc.ErrUserGone) {
		t.Errorf("Refresh outside allowedGroups: %v; want ErrUserGone", err)
	}
}

// TestRefreshWithoutToken: no refresh token, the identity is unchanged.
func TestRefreshWithoutToken(t *testing.T) {
	k := open(t, upstreamConfig(connectortest.NewUpstream(t)))
	id := oidc.Identity{UserID: "u", Email: "e@example.com", Groups: []string{"g"}}
	got, err := k.Refresh(t.Context(), offline, id)
	if err != nil || got.UserID != "u" || !slices.Equal(got.Groups, id.Groups) {
		t.Errorf("Refresh without data: %+v, %v", got, err)
	}
}

// TestLoginFailures are logins the connector refuses at the real upstream.
func TestLoginFailures(t *testing.T) {
	t.Run("unverified email", func(t *testing.T) {
		u := connectortest.NewUpstream(t)
		u.PutUser(t, []string{"staff"}, false)
		_, err := connectortest.Login(t, open(t, upstreamConfig(u)), offline)
		wantUpstreamError(t, err, "not verified")
	})
	t.Run("outside allowedGroups", func(t *testing.T) {
		u := connectortest.NewUpstream(t)
		c := upstreamConfig(u)
		c.AllowedGroups = []string{"wizards"}
		_, err := connectortest.Login(t, open(t, c), offline)
		wantUpstreamError(t, err, "not in a group")
	})
	t.Run("nonce mismatch", func(t *testing.T) {
		u := connectortest.NewUpstream(t)
		k := open(t, upstreamConfig(u))
		loginURL, data, _ := k.LoginURL(t.Context(), offline, connectortest.CallbackURL, "s")
		cb := connectortest.Browse(t, loginURL, false)
		var d map[string]string
		_ = json.Unmarshal(data, &d)
		d["n"] = "another-nonce-of-another-login-0123456789abc"
		tampered, _ := json.Marshal(d)
		_, err := k.HandleCallback(t.Context(), offline, tampered, connectortest.CallbackRequest(t, cb))
		wantUpstreamError(t, err, "nonce")
	})
	for _, tt := range []struct{ name, iss, want string }{
		{"wrong iss", "https://evil.example.com", "another identity provider"},
		{"missing iss", "", "lacks its iss"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := connectortest.NewUpstream(t)
			k := open(t, upstreamConfig(u))
			loginURL, data, _ := k.LoginURL(t.Context(), offline, connectortest.CallbackURL, "s")
			cb := connectortest.Browse(t, loginURL, false)
			q := cb.Query()
			if tt.iss == "" {
				q.Del("iss")
			} else {
				q.Set("iss", tt.iss)
			}
			cb.RawQuery = q.Encode()
			_, err := k.HandleCallback(t.Context(), offline, data, connectortest.CallbackRequest(t, cb))
			wantUpstreamError(t, err, tt.want)
		})
	}
}

func wantUpstreamError(t *testing.T, err error, reason string) {
	t.Helper()
	t.Logf("error: %v", err)
	var ue *oidc.UpstreamError
	if !errors.As(err, &ue) || !strings.Contains(ue.Reason, reason) {
		t.Errorf("got %v; want an UpstreamError whose reason says %q", err, reason)
	}
	if errors.Is(err, oidc.ErrUnavailable) {
		t.Errorf("%v is ErrUnavailable", err)
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
