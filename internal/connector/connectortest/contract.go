package connectortest

import (
	"errors"
	"slices"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Connector is a connector type that logs in and refreshes.
type Connector interface {
	oidc.CallbackConnector
	oidc.RefreshConnector
}

// Contract runs the cases every connector type with refresh passes
// against an upstream that is this provider: open builds the connector
// for u, configured to read the user's name, email and groups.
func Contract(t *testing.T, open func(t *testing.T, u *Upstream) Connector) {
	offline := oidc.ConnectorScopes{OfflineAccess: true, Groups: true}
	t.Run("login", func(t *testing.T) {
		c := open(t, NewUpstream(t))
		id, err := Login(t, c, offline)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		want := oidc.Subject(UserSubject, oidc.ConnectorLocal) // the upstream's Dex-encoded sub
		if id.UserID != want || id.Username != "Ada Lovelace" || id.PreferredUsername != "ada" || id.Email != UserEmail ||
			!id.EmailVerified || !slices.Equal(id.Groups, []string{"admins", "staff"}) || id.ConnectorData == nil {
			t.Errorf("identity %+v; want user %s, Ada Lovelace, ada, %s verified, [admins staff], connector data", id, want, UserEmail)
		}
		// Without offline_access nothing is kept; without groups, no groups.
		id, err = Login(t, c, oidc.ConnectorScopes{})
		if err != nil || id.ConnectorData != nil || id.Groups != nil {
			t.Errorf("without scopes: %+v, %v; want no connector data and no groups", id, err)
		}
	})
	t.Run("refresh", func(t *testing.T) {
		u := NewUpstream(t)
		c := open(t, u)
		id, err := Login(t, c, offline)
		if err != nil {
			t.Fatal(err)
		}
		u.PutUser(t, []string{"staff", "auditors"}, true)
		fresh, err := c.Refresh(t.Context(), offline, id)
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if fresh.UserID != id.UserID || !slices.Equal(fresh.Groups, []string{"staff", "auditors"}) {
			t.Errorf("refreshed %+v; want the same user in [staff auditors]", fresh)
		}
		if string(fresh.ConnectorData) == string(id.ConnectorData) {
			t.Error("the rotated refresh token was not kept")
		}
		if again, err := c.Refresh(t.Context(), offline, fresh); err != nil || again.UserID != id.UserID {
			t.Errorf("second Refresh: %+v, %v", again, err)
		}
	})
	t.Run("user deleted upstream", func(t *testing.T) {
		u := NewUpstream(t)
		c := open(t, u)
		id, err := Login(t, c, offline)
		if err != nil {
			t.Fatal(err)
		}
		if err := u.Store.DeleteUser(t.Context(), UserSubject); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Refresh(t.Context(), offline, id); !errors.Is(err, oidc.ErrUserGone) {
			t.Errorf("Refresh: %v; want ErrUserGone", err)
		}
	})
	t.Run("declined", func(t *testing.T) {
		c := open(t, NewUpstream(t))
		loginURL, data, err := c.LoginURL(t.Context(), offline, CallbackURL, "state-123")
		if err != nil {
			t.Fatal(err)
		}
		cb := Browse(t, loginURL, true)
		if cb.Query().Get("error") != "access_denied" {
			t.Fatalf("the upstream answered %s; want access_denied", cb)
		}
		if _, err := c.HandleCallback(t.Context(), offline, data, CallbackRequest(t, cb)); !errors.Is(err, oidc.ErrUpstreamDenied) {
			t.Errorf("HandleCallback: %v; want ErrUpstreamDenied", err)
		}
	})
}
