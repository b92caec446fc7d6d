package dynamodb_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	store "github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

func TestSessions(t *testing.T) {
	client := newClient(t)
	clock := oidctest.NewClock()
	s := store.New(client, newTable(t, client), clock.Now)
	ctx := context.Background()

	var sess oidc.Session
	fill(t, &sess)
	sess.ID, sess.Expiry = oidc.HashSecret("session"), clock.Now().Add(10*time.Second).UTC()
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if err := s.CreateSession(ctx, sess); !errors.Is(err, oidc.ErrConflict) {
		t.Errorf("CreateSession with a used id: got %v; want ErrConflict", err)
	}
	got, err := s.Session(ctx, sess.ID)
	if err != nil || !reflect.DeepEqual(got, sess) {
		t.Errorf("Session:\n got %+v, %v\nwant %+v", got, err, sess)
	}

	clock.Advance(9 * time.Second)
	lastSeen, expiry := clock.Now().UTC(), clock.Now().Add(10*time.Second).UTC()
	if err := s.TouchSession(ctx, sess.ID, lastSeen, expiry); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	clock.Advance(9 * time.Second) // past the first expiry, before the new one
	got, err = s.Session(ctx, sess.ID)
	sess.LastSeen, sess.Expiry = lastSeen, expiry
	if err != nil || !reflect.DeepEqual(got, sess) {
		t.Errorf("Session after TouchSession:\n got %+v, %v\nwant %+v", got, err, sess)
	}
	clock.Advance(time.Second)
	if _, err := s.Session(ctx, sess.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("Session at expiry: got %v; want ErrNotFound", err)
	}
	if err := s.TouchSession(ctx, sess.ID, clock.Now(), clock.Now().Add(time.Hour)); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("TouchSession after expiry: got %v; want ErrNotFound", err)
	}
	if err := s.TouchSession(ctx, oidc.HashSecret("none"), clock.Now(), clock.Now().Add(time.Hour)); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("TouchSession(unknown): got %v; want ErrNotFound", err)
	}

	live := oidc.Session{ID: oidc.HashSecret("live"), Subject: "u", Expiry: clock.Now().Add(time.Hour)}
	if err := s.CreateSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EndSession(ctx, live.ID); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	if _, err := s.Session(ctx, live.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("Session after EndSession: got %v; want ErrNotFound", err)
	}
	if _, err := s.EndSession(ctx, live.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("EndSession(unknown): %v; want ErrNotFound", err)
	}
}

func TestConsent(t *testing.T) {
	client := newClient(t)
	clock := oidctest.NewClock()
	s := store.New(client, newTable(t, client), clock.Now)
	ctx := context.Background()

	if _, err := s.Consent(ctx, "u", "app"); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("Consent(none): got %v; want ErrNotFound", err)
	}
	var c oidc.Consent
	fill(t, &c)
	c.Expiry = clock.Now().Add(10 * time.Second).UTC()
	if err := s.PutConsent(ctx, c); err != nil {
		t.Fatalf("PutConsent: %v", err)
	}
	got, err := s.Consent(ctx, c.Subject, c.ClientID)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("Consent:\n got %+v, %v\nwant %+v", got, err, c)
	}
	if _, err := s.Consent(ctx, c.Subject, "other-app"); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("Consent(other client): got %v; want ErrNotFound", err)
	}
	// A consent lives beside the user item and does not disturb it.
	if err := s.PutUser(ctx, oidc.User{Subject: c.Subject, Email: "consent@example.com"}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.User(ctx, c.Subject); err != nil || u.Email != "consent@example.com" {
		t.Errorf("User beside consent: %+v, %v", u, err)
	}
	replaced := oidc.Consent{Subject: c.Subject, ClientID: c.ClientID, Scopes: []string{"openid"}, Expiry: clock.Now().Add(time.Hour).UTC()}
	if err := s.PutConsent(ctx, replaced); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	got, err = s.Consent(ctx, c.Subject, c.ClientID)
	if err != nil || !reflect.DeepEqual(got, replaced) {
		t.Errorf("Consent after replace:\n got %+v, %v\nwant %+v", got, err, replaced)
	}
	clock.Advance(time.Hour)
	if _, err := s.Consent(ctx, c.Subject, c.ClientID); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("Consent at expiry: got %v; want ErrNotFound", err)
	}
}
