// The connector part of the storage contract: upstream logins in flight
// (single use, by the store's clock) and the users callback connectors
// vouched for (replaced by subject, every field kept).

package oidctest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// ConnectorStore is everything the connector part of the contract covers.
type ConnectorStore interface {
	oidc.ConnectorStateStore
	oidc.IdentityStore
}

// NewConnectorStore returns an empty store that reads time from clock.Now.
type NewConnectorStore func(t *testing.T, clock *Clock) ConnectorStore

// TestConnectorStorage is the connector part of the storage contract;
// every store MUST pass it.
func TestConnectorStorage(t *testing.T, newStore NewConnectorStore) {
	runSuite(t, newStore, []subtest[ConnectorStore]{
		{"ConnectorStateRoundTrip", testConnectorStateRoundTrip},
		{"ConnectorStateTakeOnce", testConnectorStateTakeOnce},
		{"ConnectorStateExpiry", testConnectorStateExpiry},
		{"ConnectorStateTakeConcurrent", testConnectorStateTakeConcurrent},
		{"IdentityRoundTrip", testIdentityRoundTrip},
		{"IdentityReplace", testIdentityReplace},
		{"IdentityExpiry", testIdentityExpiry},
	})
}

// sampleData is sealed connector data as the core stores it: opaque
// bytes, every value of a byte possible.
func sampleData(tag string) []byte {
	return append([]byte{0, 1, 0x7f, 0x80, 0xfe, 0xff}, tag...)
}

func sampleState(clock *Clock) oidc.ConnectorState {
	return oidc.ConnectorState{
		ID:            uniqueID("state"),
		AuthRequestID: uniqueID("req"),
		ConnectorID:   "upstream-oidc",
		BrowserHash:   oidc.HashSecret("browser"),
		Sealed:        sampleData("sealed"),
		Expiry:        clock.Now().Add(10 * time.Minute),
	}
}

func equalStates(a, b oidc.ConnectorState) bool {
	return a.ID == b.ID && a.AuthRequestID == b.AuthRequestID && a.ConnectorID == b.ConnectorID &&
		a.BrowserHash == b.BrowserHash && bytes.Equal(a.Sealed, b.Sealed) && a.Expiry.Equal(b.Expiry)
}

func mustCreateState(t *testing.T, s ConnectorStore, st oidc.ConnectorState) {
	t.Helper()
	if err := s.CreateConnectorState(context.Background(), st); err != nil {
		t.Fatalf("CreateConnectorState: %v", err)
	}
}

func testConnectorStateRoundTrip(t *testing.T, s ConnectorStore, clock *Clock) {
	ctx := context.Background()
	want := sampleState(clock)
	mustCreateState(t, s, want)
	// Reading does not use the state up.
	for range 2 {
		got, err := s.ConnectorState(ctx, want.ID)
		if err != nil || !equalStates(got, want) {
			t.Fatalf("ConnectorState:\n got %+v, %v\nwant %+v", got, err, want)
		}
	}
	other := sampleState(clock)
	other.ID = want.ID
	wantErr(t, "CreateConnectorState of an existing id", s.CreateConnectorState(ctx, other), oidc.ErrConflict)
	if got, _ := s.ConnectorState(ctx, want.ID); !equalStates(got, want) {
		t.Errorf("a refused create changed the state: %+v", got)
	}
	_, err := s.ConnectorState(ctx, uniqueID("none"))
	wantErr(t, "ConnectorState(unknown)", err, oidc.ErrNotFound)
	// A state without sealed data reads back without it.
	bare := oidc.ConnectorState{ID: uniqueID("bare"), Expiry: clock.Now().Add(time.Minute)}
	mustCreateState(t, s, bare)
	if got, err := s.ConnectorState(ctx, bare.ID); err != nil || !equalStates(got, bare) {
		t.Errorf("ConnectorState(bare):\n got %+v, %v\nwant %+v", got, err, bare)
	}
}

// testConnectorStateTakeOnce: a state is taken once; afterwards it is gone
// for readers and takers alike.
func testConnectorStateTakeOnce(t *testing.T, s ConnectorStore, clock *Clock) {
	ctx := context.Background()
	st := sampleState(clock)
	mustCreateState(t, s, st)
	if err := s.TakeConnectorState(ctx, st.ID); err != nil {
		t.Fatalf("TakeConnectorState: %v", err)
	}
	_, err := s.ConnectorState(ctx, st.ID)
	wantErr(t, "ConnectorState after take", err, oidc.ErrNotFound)
	wantErr(t, "second TakeConnectorState", s.TakeConnectorState(ctx, st.ID), oidc.ErrNotFound)
	wantErr(t, "TakeConnectorState(unknown)", s.TakeConnectorState(ctx, uniqueID("none")), oidc.ErrNotFound)
	// Another state is untouched.
	other := sampleState(clock)
	mustCreateState(t, s, other)
	if err := s.TakeConnectorState(ctx, other.ID); err != nil {
		t.Errorf("TakeConnectorState(other): %v", err)
	}
}

// testConnectorStateExpiry: a state past its Expiry, by the store's clock,
// is absent: it cannot be read or taken, and its id is free again.
func testConnectorStateExpiry(t *testing.T, s ConnectorStore, clock *Clock) {
	ctx := context.Background()
	st := sampleState(clock)
	st.Expiry = clock.Now().Add(10 * time.Second)
	mustCreateState(t, s, st)
	clock.Advance(9*time.Second + 999*time.Millisecond)
	if _, err := s.ConnectorState(ctx, st.ID); err != nil {
		t.Fatalf("ConnectorState a millisecond before expiry: %v", err)
	}
	clock.Advance(time.Millisecond)
	_, err := s.ConnectorState(ctx, st.ID)
	wantErr(t, "ConnectorState at expiry", err, oidc.ErrNotFound)
	wantErr(t, "TakeConnectorState at expiry", s.TakeConnectorState(ctx, st.ID), oidc.ErrNotFound)

	again := sampleState(clock)
	again.ID = st.ID
	if err := s.CreateConnectorState(ctx, again); err != nil {
		t.Fatalf("CreateConnectorState over an expired state: %v", err)
	}
	if got, err := s.ConnectorState(ctx, st.ID); err != nil || !equalStates(got, again) {
		t.Errorf("ConnectorState after re-creation:\n got %+v, %v\nwant %+v", got, err, again)
	}
	if err := s.TakeConnectorState(ctx, st.ID); err != nil {
		t.Errorf("TakeConnectorState after re-creation: %v", err)
	}
}

// testConnectorStateTakeConcurrent: 50 callbacks with one state at once;
// exactly one takes it (the single-use gate of an upstream answer).
func testConnectorStateTakeConcurrent(t *testing.T, s ConnectorStore, clock *Clock) {
	ctx := context.Background()
	st := sampleState(clock)
	mustCreateState(t, s, st)
	const n = 50
	var wins, losses atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			switch err := s.TakeConnectorState(ctx, st.ID); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, oidc.ErrNotFound):
				losses.Add(1)
			default:
				t.Errorf("TakeConnectorState: unexpected error %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || losses.Load() != n-1 {
		t.Errorf("%d winners, %d ErrNotFound of %d; want 1 and %d", wins.Load(), losses.Load(), n, n-1)
	}
}
