package oidc_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestPreferredUsernameClaim: the profile scope releases preferred_username
// in the ID token and at userinfo: Dex's preferredUsername when the user
// has one, otherwise the username (this provider's rule before Dex had the
// key, kept so that existing configurations do not change).
func TestPreferredUsernameClaim(t *testing.T) {
	tests := []struct {
		name, preferred, want string
	}{
		{"preferredUsername set", "ada.m", "ada.m"},
		{"username only", "", "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			putUser(t, e.store, oidc.User{Subject: userID, Email: userEmail, EmailVerified: true, Username: "admin",
				PreferredUsername: tt.preferred, PasswordHash: passwordHash})
			params := authParams()
			params.Set("scope", "openid profile")
			claims, body := e.idTokenClaims(params, confidentialID)
			if got := claims["preferred_username"]; got != tt.want {
				t.Errorf("ID token preferred_username = %v; want %q", got, tt.want)
			}
			p := e.userinfo(http.MethodGet, "Bearer "+body["access_token"].(string), "")
			var info map[string]any
			if p.status != http.StatusOK || json.Unmarshal([]byte(p.body), &info) != nil {
				t.Fatalf("userinfo: %d %s", p.status, p.body)
			}
			if got := info["preferred_username"]; got != tt.want {
				t.Errorf("userinfo preferred_username = %v; want %q", got, tt.want)
			}
		})
	}
}
