package local_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// openLocal parses a config whose signer.config is the given lines and
// opens the local signer from it.
func openLocal(t *testing.T, clock *oidctest.Clock, lines ...string) (oidc.Signer, error) {
	t.Helper()
	data := "issuer: https://id.example.com\nsigner:\n  type: local\n  config:\n"
	for _, l := range lines {
		data += "    " + l + "\n"
	}
	c, err := config.Parse([]byte(data), "c.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return local.Open(t.Context(), c.Signer.Config, backend.Env{Now: clock.Now})
}

func TestOpenRotation(t *testing.T) {
	clock := oidctest.NewClock()
	tests := []struct {
		name   string
		lines  []string
		period time.Duration // 0: a *local.Signer, which never rotates
	}{
		{"default", []string{"algorithm: ES256"}, 0},
		{"zero", []string{"algorithm: ES256", "keysRotationPeriod: 0s"}, 0},
		{"6h", []string{"algorithm: ES256", "keysRotationPeriod: 6h"}, 6 * time.Hour},
		{"minimum", []string{"algorithm: ES256", "keysRotationPeriod: 1h"}, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := openLocal(t, clock, tt.lines...)
			if err != nil {
				t.Fatal(err)
			}
			switch s := s.(type) {
			case *local.Signer:
				if tt.period != 0 {
					t.Errorf("got a fixed key; want rotation every %s", tt.period)
				}
			case *local.Rotating:
				if s.Period() != tt.period || !slices.Equal(s.Algorithms(), local.DefaultAlgorithms) {
					t.Errorf("rotating %v every %s; want %v every %s", s.Algorithms(), s.Period(), local.DefaultAlgorithms, tt.period)
				}
			default:
				t.Fatalf("got %T", s)
			}
		})
	}
}

// TestOpenRotatingUsesEnvClock: the signer Open builds rotates by env.Now.
func TestOpenRotatingUsesEnvClock(t *testing.T) {
	clock := oidctest.NewClock()
	s, err := openLocal(t, clock, "algorithm: ES256", "keysRotationPeriod: 2h")
	if err != nil {
		t.Fatal(err)
	}
	start := kids(t, s) // current RS256, current ES256, next RS256, next ES256
	clock.Advance(2 * time.Hour)
	if got := signingKid(t, s); got != start[2] {
		t.Errorf("signing kid after the period %s; want the next key %s", got, start[2])
	}
}

func TestOpenRotationRejects(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"too short", []string{"keysRotationPeriod: 10m"}, "c.yaml:5: signer.config.keysRotationPeriod: 10m0s is too short: at least 1h0m0s"},
		{"with keyFile", []string{"keyFile: /etc/oidc/key.pem", "keysRotationPeriod: 6h"}, "signer.config.keysRotationPeriod: rotates generated keys only"},
		{"negative", []string{"keysRotationPeriod: -1h"}, "must not be negative"},
		{"days", []string{"keysRotationPeriod: 1d"}, "invalid duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openLocal(t, oidctest.NewClock(), tt.lines...)
			if err == nil {
				t.Fatal("Open succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want it to contain %q", err, tt.want)
			}
		})
	}
}
