package oidctest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// The clients a session signed in to (JoinSession) and its end
// (EndSession): what back-channel logout reads.

func testSessionJoin(t *testing.T, s SessionStore, clock *Clock) {
	ctx := context.Background()
	want := sampleSession(clock)
	if err := s.CreateSession(ctx, want); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	want.LastSeen, want.Expiry = clock.Now(), clock.Now().Add(time.Hour)
	want.Clients = append(want.Clients, "second-app")
	for range 2 { // joining twice keeps one
		if err := s.JoinSession(ctx, want.ID, want.SID, "second-app", want.LastSeen, want.Expiry); err != nil {
			t.Fatalf("JoinSession: %v", err)
		}
	}
	got, err := s.Session(ctx, want.ID)
	if err != nil || !equalSessions(got, want) {
		t.Fatalf("after JoinSession:\n got %+v, %v\nwant %+v", got, err, want)
	}
	wantErr(t, "JoinSession with another sid", s.JoinSession(ctx, want.ID, uniqueID("sid"), "third-app", clock.Now(), want.Expiry), oidc.ErrNotFound)
	wantErr(t, "JoinSession of an unknown session", s.JoinSession(ctx, uniqueID("none"), want.SID, "third-app", clock.Now(), want.Expiry), oidc.ErrNotFound)
	if got, err = s.Session(ctx, want.ID); err != nil || !equalSessions(got, want) {
		t.Fatalf("after refused joins:\n got %+v, %v\nwant %+v", got, err, want)
	}
	clock.Advance(time.Hour)
	wantErr(t, "JoinSession at expiry", s.JoinSession(ctx, want.ID, want.SID, "third-app", clock.Now(), clock.Now().Add(time.Hour)), oidc.ErrNotFound)
	_, err = s.Session(ctx, want.ID)
	wantErr(t, "Session after a refused join", err, oidc.ErrNotFound)
	_, err = s.EndSession(ctx, want.ID)
	wantErr(t, "EndSession of an expired session", err, oidc.ErrNotFound)
}

// testSessionJoinConcurrent: clients joining at once are all kept.
func testSessionJoinConcurrent(t *testing.T, s SessionStore, clock *Clock) {
	ctx := context.Background()
	sess := sampleSession(clock)
	sess.Clients = nil
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	want := []string{}
	for i := range n {
		id := fmt.Sprintf("app-%d", i)
		want = append(want, id)
		wg.Go(func() { errs <- s.JoinSession(ctx, sess.ID, sess.SID, id, clock.Now(), sess.Expiry) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("JoinSession: %v", err)
		}
	}
	got, err := s.Session(ctx, sess.ID)
	if err != nil || !equalStrings(slices.Sorted(slices.Values(got.Clients)), want) {
		t.Fatalf("Clients after %d concurrent joins = %v, %v; want %v", n, got.Clients, err, want)
	}
}

// testSessionEndOnce: of concurrent EndSession calls exactly one gets the
// session.
func testSessionEndOnce(t *testing.T, s SessionStore, clock *Clock) {
	ctx := context.Background()
	sess := sampleSession(clock)
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range n {
		wg.Go(func() {
			got, err := s.EndSession(ctx, sess.ID)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && equalSessions(got, sess):
				won++
			case err == nil:
				t.Errorf("EndSession = %+v; want %+v", got, sess)
			default:
				if !errors.Is(err, oidc.ErrNotFound) {
					t.Errorf("EndSession, lost: got error %v; want ErrNotFound", err)
				}
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d of %d concurrent EndSession calls got the session; want 1", won, n)
	}
}
