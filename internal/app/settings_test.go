package app

import (
	"log/slog"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/config"
)

// TestSettingsRequirePKCE: oauth2.pkce.enforce becomes Settings.RequirePKCE.
func TestSettingsRequirePKCE(t *testing.T) {
	for _, enforce := range []bool{false, true} {
		cfg := &config.Config{OAuth2: config.OAuth2{PKCE: config.PKCE{Enforce: enforce}}}
		if got := settings(cfg, nil, time.Now, slog.New(slog.DiscardHandler)).RequirePKCE; got != enforce {
			t.Errorf("enforce %v: RequirePKCE = %v", enforce, got)
		}
	}
}
