// The contract of oidc.PushedRequestStore: a request_uri is single use
// and lives until its expiry, under concurrency too.

package oidctest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// NewPushedRequestStore returns an empty PushedRequestStore that reads
// time from clock.Now.
type NewPushedRequestStore func(t *testing.T, clock *Clock) oidc.PushedRequestStore

// TestPushedRequestStorage is the contract every oidc.PushedRequestStore
// MUST pass.
func TestPushedRequestStorage(t *testing.T, newStore NewPushedRequestStore) {
	runSuite(t, newStore, []subtest[oidc.PushedRequestStore]{
		{"TakeOnce", testTakePushedOnce},
		{"Expiry", testPushedExpiry},
		{"Conflict", testPushedConflict},
		{"TakeConcurrent", testTakePushedConcurrent},
	})
}

func samplePushed(clock *Clock) oidc.PushedRequest {
	return oidc.PushedRequest{
		ID: uniqueID("par"), ClientID: "client-a",
		// A large request (a request object's worth) round-trips whole.
		Params: "client_id=client-a&response_type=code&scope=openid&x=" + strings.Repeat("y", 8000),
		Expiry: clock.Now().Add(60 * time.Second).Truncate(time.Millisecond),
	}
}

func testTakePushedOnce(t *testing.T, s oidc.PushedRequestStore, clock *Clock) {
	ctx := context.Background()
	r := samplePushed(clock)
	if err := s.CreatePushedRequest(ctx, r); err != nil {
		t.Fatalf("CreatePushedRequest = %v", err)
	}
	if _, err := s.TakePushedRequest(ctx, uniqueID("par")); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("TakePushedRequest(unknown) = %v; want ErrNotFound", err)
	}
	got, err := s.TakePushedRequest(ctx, r.ID)
	if err != nil {
		t.Fatalf("TakePushedRequest = %v", err)
	}
	if got.ID != r.ID || got.ClientID != r.ClientID || got.Params != r.Params || !got.Expiry.Equal(r.Expiry) {
		t.Fatalf("TakePushedRequest = %+v; want %+v", got, r)
	}
	if _, err := s.TakePushedRequest(ctx, r.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("second TakePushedRequest = %v; want ErrNotFound", err)
	}
}

func testPushedExpiry(t *testing.T, s oidc.PushedRequestStore, clock *Clock) {
	ctx := context.Background()
	r := samplePushed(clock)
	if err := s.CreatePushedRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	clock.Advance(61 * time.Second)
	if _, err := s.TakePushedRequest(ctx, r.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("TakePushedRequest after expiry = %v; want ErrNotFound", err)
	}
	// An expired request's id is free again.
	r.Expiry = clock.Now().Add(time.Minute).Truncate(time.Millisecond)
	if err := s.CreatePushedRequest(ctx, r); err != nil {
		t.Fatalf("CreatePushedRequest over an expired one = %v", err)
	}
}

func testPushedConflict(t *testing.T, s oidc.PushedRequestStore, clock *Clock) {
	ctx := context.Background()
	r := samplePushed(clock)
	if err := s.CreatePushedRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	other := r
	other.ClientID = "client-b"
	if err := s.CreatePushedRequest(ctx, other); !errors.Is(err, oidc.ErrConflict) {
		t.Fatalf("CreatePushedRequest(same id) = %v; want ErrConflict", err)
	}
	if got, err := s.TakePushedRequest(ctx, r.ID); err != nil || got.ClientID != r.ClientID {
		t.Fatalf("TakePushedRequest = %+v, %v; want the first request", got, err)
	}
}

func testTakePushedConcurrent(t *testing.T, s oidc.PushedRequestStore, clock *Clock) {
	r := samplePushed(clock)
	if err := s.CreatePushedRequest(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	var wins, misses atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			switch _, err := s.TakePushedRequest(context.Background(), r.ID); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, oidc.ErrNotFound):
				misses.Add(1)
			default:
				t.Errorf("TakePushedRequest = %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || misses.Load() != 15 {
		t.Fatalf("%d wins, %d misses; want exactly 1 and 15", wins.Load(), misses.Load())
	}
}
