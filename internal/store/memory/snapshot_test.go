package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

func TestSnapshot(t *testing.T) {
	clock := oidctest.NewClock()
	s := memory.New(clock.Now)
	s.PutClient(oidc.Client{ID: "c", RedirectURIs: []string{"http://127.0.0.1/cb"}})
	if err := s.PutUser(context.Background(), oidc.User{Subject: "u", Email: "u@example.com", Address: &oidc.Address{Country: "GB"}}); err != nil {
		t.Fatal(err)
	}
	before := s.Snapshot()
	if again := s.Snapshot(); !equal(before, again) {
		t.Fatalf("two snapshots of an unchanged store differ:\n%v\n%v", before, again)
	}
	ctx := context.Background()
	writes := []struct {
		concern string
		write   func() error
	}{
		{"requests", func() error {
			return s.CreateAuthRequest(ctx, oidc.AuthRequest{ID: "r", ClientID: "c", Expiry: clock.Now().Add(time.Minute)})
		}},
		{"sessions", func() error {
			return s.CreateSession(ctx, oidc.Session{ID: "s", Subject: "u", Expiry: clock.Now().Add(time.Minute)})
		}},
		{"revoked", func() error { return s.RevokeAccessToken(ctx, "jti", clock.Now().Add(time.Minute)) }},
		{"consents", func() error {
			return s.PutConsent(ctx, oidc.Consent{Subject: "u", ClientID: "c", Scopes: []string{"openid"}, Expiry: clock.Now().Add(time.Minute)})
		}},
	}
	for _, w := range writes {
		prev := s.Snapshot()
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.concern, err)
		}
		next := s.Snapshot()
		for k := range next {
			if changed := prev[k] != next[k]; changed != (k == w.concern) {
				t.Errorf("after a write to %s: %s changed = %v", w.concern, k, changed)
			}
		}
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
