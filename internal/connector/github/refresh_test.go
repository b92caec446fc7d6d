package github_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/connector/github"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestRefresh(t *testing.T) {
	f := newFakeGitHub(t)
	f.put(ada())
	c := open(t, f, github.Config{Orgs: []github.Org{{Name: "acme"}}}, 5*time.Second)
	id, err := login(t, f, c, withGroups)
	if err != nil {
		t.Fatal(err)
	}
	if len(id.ConnectorData) == 0 {
		t.Fatal("no connector data with offline_access")
	}
	if id2, _ := login(t, f, c, oidc.ConnectorScopes{Groups: true}); id2.ConnectorData != nil {
		t.Error("connector data without offline_access: the token is kept only when a refresh needs it")
	}

	// Ada leaves Blue Team and changes her name: both show at refresh.
	f.set(func(f *fakeGitHub) {
		u := f.users["ada"]
		u.Teams, u.Name = u.Teams[:1], "Ada King"
	})
	got, err := c.Refresh(t.Context(), withGroups, id)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if !slices.Equal(got.Groups, []string{"acme:Red Team"}) || got.Username != "Ada King" || got.UserID != "4242" {
		t.Errorf("refreshed %+v; want groups [acme:Red Team], name Ada King, id 4242", got)
	}
	if string(got.ConnectorData) != string(id.ConnectorData) {
		t.Error("Refresh changed the connector data")
	}

	// Ada leaves acme: she is gone for this connector.
	f.set(func(f *fakeGitHub) { f.users["ada"].Orgs = []string{"widgets"} })
	if _, err := c.Refresh(t.Context(), withGroups, id); !errors.Is(err, oidc.ErrUserGone) {
		t.Errorf("Refresh after leaving the org: %v; want ErrUserGone", err)
	}

	// Ada revokes the app: GitHub answers 401.
	f.set(func(f *fakeGitHub) { f.users["ada"].Orgs = []string{"acme"} })
	if _, err := c.Refresh(t.Context(), withGroups, id); err != nil {
		t.Fatalf("Refresh back in the org: %v", err)
	}
	f.revoke("ada")
	if _, err := c.Refresh(t.Context(), withGroups, id); !errors.Is(err, oidc.ErrUserGone) {
		t.Errorf("Refresh with a revoked token: %v; want ErrUserGone", err)
	}
}

func TestUnavailable(t *testing.T) {
	f := newFakeGitHub(t)
	f.put(ada())
	tests := []struct {
		name  string
		fail  int
		delay time.Duration
		stage string // the failing call: exchange or api
	}{
		{"token endpoint 503", http.StatusServiceUnavailable, 0, "exchange"},
		{"API 502", http.StatusBadGateway, 0, "api"},
		{"API rate limited", http.StatusTooManyRequests, 0, "api"},
		{"token endpoint timeout", 0, 400 * time.Millisecond, "exchange"},
		{"API timeout", 0, 400 * time.Millisecond, "api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.set(func(f *fakeGitHub) { f.fail, f.delay = 0, 0 })
			c := open(t, f, github.Config{Orgs: []github.Org{{Name: "acme"}}}, 200*time.Millisecond)
			id, err := login(t, f, c, withGroups)
			if err != nil {
				t.Fatal(err)
			}
			r, data := browse(t, f, c, withGroups)
			set := func() { f.set(func(f *fakeGitHub) { f.fail, f.delay = tt.fail, tt.delay }) }
			if tt.stage == "exchange" {
				set()
				_, err = c.HandleCallback(t.Context(), withGroups, data, r)
			} else {
				set()
				_, err = c.Refresh(t.Context(), withGroups, id)
			}
			f.set(func(f *fakeGitHub) { f.fail, f.delay = 0, 0 })
			if !errors.Is(err, oidc.ErrUnavailable) {
				t.Errorf("got %v; want ErrUnavailable", err)
			}
			if err != nil && strings.Contains(err.Error(), "gho_") {
				t.Errorf("error %q shows a token", err)
			}
		})
	}
	// Nobody listening at all.
	f.srv.Close()
	c := open(t, f, github.Config{}, time.Second)
	r, data := browse2(t, c)
	if _, err := c.HandleCallback(t.Context(), plainScopes, data, r); !errors.Is(err, oidc.ErrUnavailable) {
		t.Errorf("closed server: %v; want ErrUnavailable", err)
	}
}

// browse2 is the callback GitHub would have sent, without asking it.
func browse2(t *testing.T, c *github.Connector) (*http.Request, []byte) {
	t.Helper()
	_, data, err := c.LoginURL(t.Context(), plainScopes, callbackURL, "s")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodGet, callbackURL+"?code=c&state=s", nil)
	r.ParseForm()
	return r, data
}

func TestCallbackErrors(t *testing.T) {
	f := newFakeGitHub(t)
	f.put(ada())
	c := open(t, f, github.Config{}, 5*time.Second)

	f.set(func(f *fakeGitHub) { f.deny = true })
	if _, err := login(t, f, c, plainScopes); !errors.Is(err, oidc.ErrUpstreamDenied) {
		t.Errorf("access_denied: %v; want ErrUpstreamDenied", err)
	}
	f.set(func(f *fakeGitHub) { f.deny = false })

	call := func(q url.Values, data []byte) error {
		r, _ := http.NewRequest(http.MethodGet, callbackURL+"?"+q.Encode(), nil)
		r.ParseForm()
		_, err := c.HandleCallback(t.Context(), plainScopes, data, r)
		return err
	}
	_, data, _ := c.LoginURL(t.Context(), plainScopes, callbackURL, "s")
	tests := []struct {
		name   string
		q      url.Values
		reason string // "" : not shown
	}{
		{"other error", url.Values{"error": {"application_suspended"}, "error_description": {"<b>x</b>"}}, "application_suspended"},
		{"odd error code", url.Values{"error": {"<script>"}}, ""},
		{"no code", url.Values{"state": {"s"}}, ""},
		{"wrong code", url.Values{"code": {"code-999"}}, "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := call(tt.q, data)
			var ue *oidc.UpstreamError
			if !errors.As(err, &ue) {
				t.Fatalf("got %v; want an UpstreamError", err)
			}
			if strings.ContainsAny(ue.Reason, "<>") || !strings.Contains(ue.Reason, tt.reason) {
				t.Errorf("reason %q; want a safe one naming %q", ue.Reason, tt.reason)
			}
		})
	}

	// A verifier other than the one the challenge was made from is refused
	// by the token endpoint (PKCE, RFC 7636 §4.6).
	r, _ := browse(t, f, c, plainScopes)
	_, other, _ := c.LoginURL(t.Context(), plainScopes, callbackURL, "s")
	if _, err := c.HandleCallback(t.Context(), plainScopes, other, r); err == nil {
		t.Error("a code redeemed with another login's verifier was accepted")
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
