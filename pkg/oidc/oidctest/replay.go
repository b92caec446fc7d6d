// The contract of oidc.ReplayStore: single use until expiry, under
// concurrency too.

package oidctest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// NewReplayStore returns an empty ReplayStore that reads time from clock.Now.
type NewReplayStore func(t *testing.T, clock *Clock) oidc.ReplayStore

// TestReplayStorage is the contract every oidc.ReplayStore MUST pass.
func TestReplayStorage(t *testing.T, newStore NewReplayStore) {
	runSuite(t, newStore, []subtest[oidc.ReplayStore]{
		{"UseOnce", testUseOnce},
		{"UseOnceAfterExpiry", testUseOnceAfterExpiry},
		{"UseOnceConcurrent", testUseOnceConcurrent},
	})
}

func testUseOnce(t *testing.T, s oidc.ReplayStore, clock *Clock) {
	ctx := context.Background()
	k, other := uniqueID("replay"), uniqueID("replay")
	exp := clock.Now().Add(time.Minute)
	if err := s.UseOnce(ctx, k, exp); err != nil {
		t.Fatalf("first UseOnce = %v; want nil", err)
	}
	if err := s.UseOnce(ctx, k, exp); !errors.Is(err, oidc.ErrConflict) {
		t.Fatalf("second UseOnce = %v; want ErrConflict", err)
	}
	if err := s.UseOnce(ctx, other, exp); err != nil {
		t.Fatalf("UseOnce of another key = %v; want nil", err)
	}
	clock.Advance(59 * time.Second)
	if err := s.UseOnce(ctx, k, exp); !errors.Is(err, oidc.ErrConflict) {
		t.Fatalf("UseOnce before expiry = %v; want ErrConflict", err)
	}
}

func testUseOnceAfterExpiry(t *testing.T, s oidc.ReplayStore, clock *Clock) {
	ctx := context.Background()
	k := uniqueID("replay")
	if err := s.UseOnce(ctx, k, clock.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	// Expired: the key may be used again (its proof is stale by then).
	if err := s.UseOnce(ctx, k, clock.Now().Add(time.Second)); err != nil {
		t.Fatalf("UseOnce after expiry = %v; want nil", err)
	}
	if err := s.UseOnce(ctx, k, clock.Now().Add(time.Second)); !errors.Is(err, oidc.ErrConflict) {
		t.Fatalf("UseOnce again = %v; want ErrConflict", err)
	}
}

func testUseOnceConcurrent(t *testing.T, s oidc.ReplayStore, clock *Clock) {
	k := uniqueID("replay")
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			switch err := s.UseOnce(context.Background(), k, clock.Now().Add(time.Minute)); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, oidc.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("UseOnce = %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 15 {
		t.Fatalf("%d wins, %d conflicts; want exactly 1 and 15", wins.Load(), conflicts.Load())
	}
}
