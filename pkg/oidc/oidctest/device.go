// The device part of the storage contract: device authorizations
// (RFC 8628), found by device code and by user code, decided once,
// redeemed once, by the store's clock.

package oidctest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// DeviceStore is everything the device part of the contract covers.
type DeviceStore interface {
	oidc.DeviceRequestStore
	oidc.RefreshStore
}

// NewDeviceStore returns an empty store that reads time from clock.Now.
type NewDeviceStore func(t *testing.T, clock *Clock) DeviceStore

// TestDeviceStorage is the device part of the storage contract; every
// store MUST pass it.
func TestDeviceStorage(t *testing.T, newStore NewDeviceStore) {
	runSuite(t, newStore, []subtest[DeviceStore]{
		{"DeviceRoundTrip", testDeviceRoundTrip},
		{"DeviceUniqueCodes", testDeviceUniqueCodes},
		{"DeviceExpiry", testDeviceExpiry},
		{"DeviceDecideOnce", testDeviceDecideOnce},
		{"DeviceDecideConcurrent", testDeviceDecideConcurrent},
		{"DevicePoll", testDevicePoll},
		{"DeviceRedeemOnce", testDeviceRedeemOnce},
		{"DeviceRedeemConcurrent", testDeviceRedeemConcurrent},
	})
}

func sampleDevice(clock *Clock) oidc.DeviceRequest {
	return oidc.DeviceRequest{
		ID:           uniqueID("device"),
		UserCodeHash: uniqueID("usercode"),
		ClientID:     "tv-app",
		Scopes:       []string{"openid", "offline_access"},
		SealKey:      sampleData("key"),
		Interval:     5 * time.Second,
		CodeExpiry:   clock.Now().Add(5 * time.Minute),
		Status:       oidc.DevicePending,
		Expiry:       clock.Now().Add(10 * time.Minute),
	}
}

func equalDevices(a, b oidc.DeviceRequest) bool {
	return a.ID == b.ID && a.UserCodeHash == b.UserCodeHash && a.ClientID == b.ClientID &&
		slices.Equal(a.Scopes, b.Scopes) && bytes.Equal(a.SealKey, b.SealKey) && a.Interval == b.Interval &&
		a.LastPoll.Equal(b.LastPoll) && a.CodeExpiry.Equal(b.CodeExpiry) && a.Status == b.Status &&
		a.Subject == b.Subject && a.AuthTime.Equal(b.AuthTime) && slices.Equal(a.AMR, b.AMR) &&
		bytes.Equal(a.ConnectorData, b.ConnectorData) && a.GrantID == b.GrantID && a.Expiry.Equal(b.Expiry)
}

func mustCreateDevice(t *testing.T, s DeviceStore, d oidc.DeviceRequest) {
	t.Helper()
	if err := s.CreateDeviceRequest(context.Background(), d); err != nil {
		t.Fatalf("CreateDeviceRequest: %v", err)
	}
}

func mustDevice(t *testing.T, s DeviceStore, id string) oidc.DeviceRequest {
	t.Helper()
	d, err := s.DeviceRequest(context.Background(), id)
	if err != nil {
		t.Fatalf("DeviceRequest: %v", err)
	}
	return d
}

func approval(clock *Clock) oidc.DeviceDecision {
	return oidc.DeviceDecision{Approved: true, Subject: "user-1", AuthTime: clock.Now().Truncate(time.Millisecond),
		AMR: []string{"pwd"}, ConnectorData: sampleData("sealed")}
}

func testDeviceRoundTrip(t *testing.T, s DeviceStore, clock *Clock) {
	ctx := context.Background()
	want := sampleDevice(clock)
	mustCreateDevice(t, s, want)
	if got := mustDevice(t, s, want.ID); !equalDevices(got, want) {
		t.Fatalf("DeviceRequest:\n got %+v\nwant %+v", got, want)
	}
	got, err := s.DeviceRequestByUserCode(ctx, want.UserCodeHash)
	if err != nil || !equalDevices(got, want) {
		t.Fatalf("DeviceRequestByUserCode:\n got %+v, %v\nwant %+v", got, err, want)
	}
	if _, err := s.DeviceRequest(ctx, uniqueID("unknown")); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("unknown DeviceRequest: got %v; want ErrNotFound", err)
	}
	if _, err := s.DeviceRequestByUserCode(ctx, uniqueID("unknown")); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("unknown DeviceRequestByUserCode: got %v; want ErrNotFound", err)
	}
}

// testDeviceUniqueCodes: a live request's id or user code cannot be
// taken again, and a failed create stores nothing.
func testDeviceUniqueCodes(t *testing.T, s DeviceStore, clock *Clock) {
	ctx := context.Background()
	first := sampleDevice(clock)
	mustCreateDevice(t, s, first)
	sameCode := sampleDevice(clock)
	sameCode.UserCodeHash = first.UserCodeHash
	if err := s.CreateDeviceRequest(ctx, sameCode); !errors.Is(err, oidc.ErrConflict) {
		t.Errorf("same user code: got %v; want ErrConflict", err)
	}
	if _, err := s.DeviceRequest(ctx, sameCode.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("the refused request was stored: %v", err)
	}
	sameID := sampleDevice(clock)
	sameID.ID = first.ID
	if err := s.CreateDeviceRequest(ctx, sameID); !errors.Is(err, oidc.ErrConflict) {
		t.Errorf("same id: got %v; want ErrConflict", err)
	}
	if _, err := s.DeviceRequestByUserCode(ctx, sameID.UserCodeHash); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("the refused request's user code was stored: %v", err)
	}
	// Once the first has expired, its user code may be drawn again.
	clock.Advance(11 * time.Minute)
	again := sampleDevice(clock)
	again.UserCodeHash = first.UserCodeHash
	mustCreateDevice(t, s, again)
	if got, err := s.DeviceRequestByUserCode(ctx, first.UserCodeHash); err != nil || got.ID != again.ID {
		t.Errorf("reused user code: got %+v, %v; want request %s", got, err, again.ID)
	}
}

func testDeviceExpiry(t *testing.T, s DeviceStore, clock *Clock) {
	ctx := context.Background()
	d := sampleDevice(clock)
	mustCreateDevice(t, s, d)
	clock.Advance(10 * time.Minute)
	if _, err := s.DeviceRequest(ctx, d.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("expired DeviceRequest: got %v; want ErrNotFound", err)
	}
	if _, err := s.DeviceRequestByUserCode(ctx, d.UserCodeHash); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("expired DeviceRequestByUserCode: got %v; want ErrNotFound", err)
	}
	if err := s.DecideDeviceRequest(ctx, d.ID, approval(clock)); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("DecideDeviceRequest after expiry: got %v; want ErrNotFound", err)
	}
	if err := s.RecordDevicePoll(ctx, d.ID, clock.Now(), time.Second); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("RecordDevicePoll after expiry: got %v; want ErrNotFound", err)
	}
}

func testDeviceDecideOnce(t *testing.T, s DeviceStore, clock *Clock) {
	ctx := context.Background()
	d := sampleDevice(clock)
	mustCreateDevice(t, s, d)
	dec := approval(clock)
	if err := s.DecideDeviceRequest(ctx, d.ID, dec); err != nil {
		t.Fatalf("DecideDeviceRequest: %v", err)
	}
	got := mustDevice(t, s, d.ID)
	want := d
	want.Status, want.Subject, want.AuthTime, want.AMR, want.ConnectorData = oidc.DeviceApproved, dec.Subject, dec.AuthTime, dec.AMR, dec.ConnectorData
	if !equalDevices(got, want) {
		t.Fatalf("approved:\n got %+v\nwant %+v", got, want)
	}
	if err := s.DecideDeviceRequest(ctx, d.ID, oidc.DeviceDecision{}); !errors.Is(err, oidc.ErrConflict) {
		t.Errorf("second decision: got %v; want ErrConflict", err)
	}
	if got := mustDevice(t, s, d.ID); got.Status != oidc.DeviceApproved {
		t.Errorf("status after a refused second decision: %s", got.Status)
	}
	denied := sampleDevice(clock)
	mustCreateDevice(t, s, denied)
	if err := s.DecideDeviceRequest(ctx, denied.ID, oidc.DeviceDecision{}); err != nil {
		t.Fatalf("deny: %v", err)
	}
	if got := mustDevice(t, s, denied.ID); got.Status != oidc.DeviceDenied || got.Subject != "" {
		t.Errorf("denied: got %+v", got)
	}
	if err := s.RedeemDeviceRequest(ctx, denied.ID, nil); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("redeeming a denied request: got %v; want ErrNotFound", err)
	}
}

func testDeviceDecideConcurrent(t *testing.T, s DeviceStore, clock *Clock) {
	d := sampleDevice(clock)
	mustCreateDevice(t, s, d)
	wins, losses := race(t, 20, func(i int) error {
		dec := approval(clock)
		dec.Approved = i%2 == 0
		return s.DecideDeviceRequest(context.Background(), d.ID, dec)
	}, oidc.ErrConflict)
	if wins != 1 || losses != 19 {
		t.Errorf("%d decisions won, %d ErrConflict of 20; want 1 and 19", wins, losses)
	}
}

func testDevicePoll(t *testing.T, s DeviceStore, clock *Clock) {
	d := sampleDevice(clock)
	mustCreateDevice(t, s, d)
	at := clock.Now().Add(3 * time.Second)
	if err := s.RecordDevicePoll(context.Background(), d.ID, at, 10*time.Second); err != nil {
		t.Fatalf("RecordDevicePoll: %v", err)
	}
	got := mustDevice(t, s, d.ID)
	if !got.LastPoll.Equal(at) || got.Interval != 10*time.Second || got.Status != oidc.DevicePending {
		t.Errorf("after a poll: LastPoll %v, Interval %v, Status %s; want %v, 10s, pending", got.LastPoll, got.Interval, got.Status, at)
	}
	if err := s.RecordDevicePoll(context.Background(), uniqueID("unknown"), at, time.Second); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("RecordDevicePoll of an unknown request: got %v; want ErrNotFound", err)
	}
}

func testDeviceRedeemOnce(t *testing.T, s DeviceStore, clock *Clock) {
	ctx := context.Background()
	d := sampleDevice(clock)
	mustCreateDevice(t, s, d)
	g := sampleGrant(clock)
	if err := s.RedeemDeviceRequest(ctx, d.ID, &g); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("redeeming a pending request: got %v; want ErrNotFound", err)
	}
	if _, err := s.RefreshGrant(ctx, g.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("a refused redemption stored its grant: %v", err)
	}
	if err := s.DecideDeviceRequest(ctx, d.ID, approval(clock)); err != nil {
		t.Fatal(err)
	}
	if err := s.RedeemDeviceRequest(ctx, d.ID, &g); err != nil {
		t.Fatalf("RedeemDeviceRequest: %v", err)
	}
	got := mustDevice(t, s, d.ID)
	if got.Status != oidc.DeviceRedeemed || got.GrantID != g.ID {
		t.Errorf("redeemed: Status %s, GrantID %q; want redeemed, %q", got.Status, got.GrantID, g.ID)
	}
	if stored, err := s.RefreshGrant(ctx, g.ID); err != nil || stored.Version != 1 {
		t.Errorf("the redemption's grant: %+v, %v", stored, err)
	}
	g2 := sampleGrant(clock)
	if err := s.RedeemDeviceRequest(ctx, d.ID, &g2); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("second redemption: got %v; want ErrNotFound", err)
	}
	if _, err := s.RefreshGrant(ctx, g2.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("the second redemption stored its grant: %v", err)
	}
	late := sampleDevice(clock)
	mustCreateDevice(t, s, late)
	if err := s.DecideDeviceRequest(ctx, late.ID, approval(clock)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)
	if err := s.RedeemDeviceRequest(ctx, late.ID, nil); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("redemption after expiry: got %v; want ErrNotFound", err)
	}
}

func testDeviceRedeemConcurrent(t *testing.T, s DeviceStore, clock *Clock) {
	d := sampleDevice(clock)
	mustCreateDevice(t, s, d)
	if err := s.DecideDeviceRequest(context.Background(), d.ID, approval(clock)); err != nil {
		t.Fatal(err)
	}
	const n = 20
	grants := make([]oidc.RefreshGrant, n)
	for i := range grants {
		grants[i] = sampleGrant(clock)
	}
	wins, losses := race(t, n, func(i int) error {
		return s.RedeemDeviceRequest(context.Background(), d.ID, &grants[i])
	}, oidc.ErrNotFound)
	if wins != 1 || losses != n-1 {
		t.Fatalf("%d redemptions won, %d ErrNotFound of %d; want 1 and %d", wins, losses, n, n-1)
	}
	got := mustDevice(t, s, d.ID)
	stored := 0
	for _, g := range grants {
		if _, err := s.RefreshGrant(context.Background(), g.ID); err == nil {
			stored++
			if g.ID != got.GrantID {
				t.Errorf("a loser's grant %s was stored", g.ID)
			}
		}
	}
	if stored != 1 {
		t.Errorf("%d grants stored; want 1", stored)
	}
}

// race runs f(0..n-1) at once and counts successes and errors matching
// lose; any other error fails the test.
func race(t *testing.T, n int, f func(i int) error, lose error) (wins, losses int32) {
	var w, l atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			switch err := f(i); {
			case err == nil:
				w.Add(1)
			case errors.Is(err, lose):
				l.Add(1)
			default:
				t.Errorf("unexpected error %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	return w.Load(), l.Load()
}
