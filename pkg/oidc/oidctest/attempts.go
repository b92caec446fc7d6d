// The login throttle's counters (oidc.LoginAttempts), part of the session
// contract: fixed windows, reservations that return their count, releases
// that touch only their own window, and atomic increments under
// concurrency.

package oidctest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// reserve is ReserveLogin that fails the test on an error or on a window
// end other than wantEnd.
func reserve(t *testing.T, s SessionStore, key string, windowEnd, wantEnd time.Time) int {
	t.Helper()
	n, end, err := s.ReserveLogin(context.Background(), key, windowEnd)
	if err != nil {
		t.Fatalf("ReserveLogin: %v", err)
	}
	if !end.Equal(wantEnd) {
		t.Errorf("ReserveLogin counted in the window ending %v; want %v", end, wantEnd)
	}
	return n
}

func release(t *testing.T, s SessionStore, key string, end time.Time) {
	t.Helper()
	if err := s.ReleaseLogin(context.Background(), key, end); err != nil {
		t.Fatalf("ReleaseLogin: %v", err)
	}
}

func testLoginAttemptWindows(t *testing.T, s SessionStore, clock *Clock) {
	a, b := uniqueID("attempts"), uniqueID("attempts")
	end := clock.Now().Add(time.Minute)
	for want := 1; want <= 3; want++ {
		if n := reserve(t, s, a, end, end); n != want {
			t.Fatalf("ReserveLogin #%d = %d", want, n)
		}
	}
	if n := reserve(t, s, b, end, end); n != 1 {
		t.Errorf("another key's count = %d; want 1", n)
	}
	// A later window end does not extend the open window.
	if n := reserve(t, s, a, end.Add(time.Hour), end); n != 4 {
		t.Errorf("count in the open window = %d; want 4", n)
	}
	clock.Advance(time.Minute)
	next := clock.Now().Add(time.Minute)
	if n := reserve(t, s, a, next, next); n != 1 {
		t.Errorf("first attempt of a new window = %d; want 1", n)
	}
}

func testLoginAttemptRelease(t *testing.T, s SessionStore, clock *Clock) {
	k, end := uniqueID("attempts"), clock.Now().Add(time.Minute)
	for range 3 {
		reserve(t, s, k, end, end)
	}
	release(t, s, k, end)
	if n := reserve(t, s, k, end, end); n != 3 {
		t.Errorf("after a release: %d; want 3", n)
	}
	release(t, s, k, end.Add(-time.Minute)) // another window's slot
	if n := reserve(t, s, k, end, end); n != 4 {
		t.Errorf("after releasing a slot of another window: %d; want 4", n)
	}

	never := uniqueID("attempts")
	reserve(t, s, never, end, end)
	for range 3 {
		release(t, s, never, end)
	}
	if n := reserve(t, s, never, end, end); n != 1 {
		t.Errorf("after more releases than reservations: %d; want 1 (never below zero)", n)
	}
	unknown := uniqueID("attempts")
	release(t, s, unknown, end)
	if n := reserve(t, s, unknown, end, end); n != 1 {
		t.Errorf("after releasing an unknown key: %d; want 1", n)
	}

	// A slot of a closed window is not given back to the next window.
	old := uniqueID("attempts")
	reserve(t, s, old, end, end)
	clock.Advance(time.Minute)
	next := clock.Now().Add(time.Minute)
	reserve(t, s, old, next, next)
	release(t, s, old, end)
	if n := reserve(t, s, old, next, next); n != 2 {
		t.Errorf("after releasing a closed window's slot: %d; want 2", n)
	}
}

// testLoginAttemptsConcurrent: N concurrent reservations on one key get the
// counts 1 to N, each once; N concurrent releases give every slot back;
// releases racing reservations lose nothing.
func testLoginAttemptsConcurrent(t *testing.T, s SessionStore, clock *Clock) {
	ctx := context.Background()
	k, end := uniqueID("attempts"), clock.Now().Add(time.Minute)
	const n = 20
	counts := make([]int, n)
	concurrently(n, func(i int) {
		c, _, err := s.ReserveLogin(ctx, k, end)
		if err != nil {
			t.Errorf("ReserveLogin: %v", err)
		}
		counts[i] = c
	})
	slices.Sort(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Fatalf("%d concurrent reservations returned %v; want 1 to %d, each once", n, counts, n)
		}
	}
	concurrently(n, func(int) {
		if err := s.ReleaseLogin(ctx, k, end); err != nil {
			t.Errorf("ReleaseLogin: %v", err)
		}
	})
	if c := reserve(t, s, k, end, end); c != 1 {
		t.Errorf("after %d concurrent releases: %d; want 1", n, c)
	}
	// From n, n releases racing n reservations never reach below zero, so
	// none is lost: n again.
	m := uniqueID("attempts")
	for range n {
		reserve(t, s, m, end, end)
	}
	concurrently(2*n, func(i int) {
		var err error
		if i%2 == 0 {
			_, _, err = s.ReserveLogin(ctx, m, end)
		} else {
			err = s.ReleaseLogin(ctx, m, end)
		}
		if err != nil {
			t.Errorf("reserve or release: %v", err)
		}
	})
	if c := reserve(t, s, m, end, end); c != n+1 {
		t.Errorf("after %d reservations racing %d releases from %d: %d; want %d", n, n, n, c, n+1)
	}
}

// concurrently runs f(0) to f(n-1) at once and waits for them all.
func concurrently(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}
