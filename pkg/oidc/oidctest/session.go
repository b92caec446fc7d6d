package oidctest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// SessionStore is everything the session part of the contract covers.
type SessionStore interface {
	oidc.SessionStore
	oidc.ConsentStore
	oidc.LoginAttempts
}

// NewSessionStore returns an empty store that reads time from clock.Now.
type NewSessionStore func(t *testing.T, clock *Clock) SessionStore

// TestSessionStorage is the single sign-on part of the storage contract:
// sessions, remembered consent and the login throttle's counters
// (attempts.go). Every store MUST pass it.
func TestSessionStorage(t *testing.T, newStore NewSessionStore) {
	runSuite(t, newStore, []subtest[SessionStore]{
		{"SessionLifecycle", testSessionLifecycle},
		{"SessionExpiry", testSessionExpiry},
		{"SessionJoin", testSessionJoin},
		{"SessionJoinConcurrent", testSessionJoinConcurrent},
		{"SessionEndOnce", testSessionEndOnce},
		{"ConsentLifecycle", testConsentLifecycle},
		{"LoginAttemptWindows", testLoginAttemptWindows},
		{"LoginAttemptRelease", testLoginAttemptRelease},
		{"LoginAttemptsConcurrent", testLoginAttemptsConcurrent},
	})
}

func sampleSession(clock *Clock) oidc.Session {
	now := clock.Now()
	return oidc.Session{ID: uniqueID("session"), Subject: "user-1", ClientID: "example-app", AuthTime: now, AMR: []string{"pwd"},
		CreatedAt: now, LastSeen: now, Expiry: now.Add(time.Hour), SID: uniqueID("sid"), Clients: []string{"first-app"}}
}

func equalSessions(a, b oidc.Session) bool {
	return a.ID == b.ID && a.Subject == b.Subject && a.ClientID == b.ClientID && a.AuthTime.Equal(b.AuthTime) && equalStrings(emptyNil(a.AMR), emptyNil(b.AMR)) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.LastSeen.Equal(b.LastSeen) && a.Expiry.Equal(b.Expiry) &&
		a.SID == b.SID && equalStrings(slices.Sorted(slices.Values(a.Clients)), slices.Sorted(slices.Values(b.Clients)))
}

func testSessionLifecycle(t *testing.T, s SessionStore, clock *Clock) {
	ctx := context.Background()
	want := sampleSession(clock)
	if err := s.CreateSession(ctx, want); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got, err := s.Session(ctx, want.ID)
	if err != nil || !equalSessions(got, want) {
		t.Fatalf("Session:\n got %+v, %v\nwant %+v", got, err, want)
	}
	wantErr(t, "CreateSession of an existing id", s.CreateSession(ctx, want), oidc.ErrConflict)
	clock.Advance(time.Minute)
	want.LastSeen, want.Expiry = clock.Now(), clock.Now().Add(time.Hour)
	if err := s.TouchSession(ctx, want.ID, want.LastSeen, want.Expiry); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	if got, err = s.Session(ctx, want.ID); err != nil || !equalSessions(got, want) {
		t.Errorf("after TouchSession:\n got %+v, %v\nwant %+v", got, err, want)
	}
	if got, err = s.EndSession(ctx, want.ID); err != nil || !equalSessions(got, want) {
		t.Fatalf("EndSession:\n got %+v, %v\nwant %+v", got, err, want)
	}
	_, err = s.Session(ctx, want.ID)
	wantErr(t, "Session after EndSession", err, oidc.ErrNotFound)
	wantErr(t, "TouchSession after EndSession", s.TouchSession(ctx, want.ID, clock.Now(), clock.Now().Add(time.Hour)), oidc.ErrNotFound)
	_, err = s.EndSession(ctx, want.ID)
	wantErr(t, "EndSession of an ended session", err, oidc.ErrNotFound)
	_, err = s.Session(ctx, uniqueID("none"))
	wantErr(t, "Session(unknown)", err, oidc.ErrNotFound)
}

func testSessionExpiry(t *testing.T, s SessionStore, clock *Clock) {
	ctx := context.Background()
	sess := sampleSession(clock)
	sess.Expiry = clock.Now().Add(10 * time.Second)
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	clock.Advance(9 * time.Second)
	if _, err := s.Session(ctx, sess.ID); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
	clock.Advance(time.Second)
	_, err := s.Session(ctx, sess.ID)
	wantErr(t, "Session at expiry", err, oidc.ErrNotFound)
	// An expired session cannot be revived by a touch.
	wantErr(t, "TouchSession at expiry", s.TouchSession(ctx, sess.ID, clock.Now(), clock.Now().Add(time.Hour)), oidc.ErrNotFound)
	_, err = s.Session(ctx, sess.ID)
	wantErr(t, "Session after a refused touch", err, oidc.ErrNotFound)
}

func testConsentLifecycle(t *testing.T, s SessionStore, clock *Clock) {
	ctx := context.Background()
	subject := uniqueID("subject")
	_, err := s.Consent(ctx, subject, "example-app")
	wantErr(t, "Consent(none)", err, oidc.ErrNotFound)
	c := oidc.Consent{Subject: subject, ClientID: "example-app", Scopes: []string{"openid", "email", "claim:picture"}, Expiry: clock.Now().Add(time.Hour)}
	if err := s.PutConsent(ctx, c); err != nil {
		t.Fatalf("PutConsent: %v", err)
	}
	other := oidc.Consent{Subject: subject, ClientID: "other-app", Scopes: []string{"openid"}, Expiry: clock.Now().Add(time.Hour)}
	if err := s.PutConsent(ctx, other); err != nil {
		t.Fatalf("PutConsent: %v", err)
	}
	got, err := s.Consent(ctx, subject, "example-app")
	if err != nil || !slices.Equal(got.Scopes, c.Scopes) || !got.Expiry.Equal(c.Expiry) || got.Subject != subject || got.ClientID != "example-app" {
		t.Errorf("Consent = %+v, %v; want %+v", got, err, c)
	}
	c.Scopes = []string{"openid", "email", "profile"}
	c.Expiry = clock.Now().Add(2 * time.Hour)
	if err := s.PutConsent(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Consent(ctx, subject, "example-app"); !slices.Equal(got.Scopes, c.Scopes) {
		t.Errorf("after replacement: %v; want %v", got.Scopes, c.Scopes)
	}
	if got, _ := s.Consent(ctx, subject, "other-app"); !slices.Equal(got.Scopes, []string{"openid"}) {
		t.Errorf("another client's consent changed: %v", got.Scopes)
	}
	clock.Advance(time.Hour)
	_, err = s.Consent(ctx, subject, "other-app")
	wantErr(t, "Consent at expiry", err, oidc.ErrNotFound)
}
