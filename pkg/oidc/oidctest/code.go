// The authorization code cases of the storage contract: single-use
// redemption, expiry, and concurrent redemption.

package oidctest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// testCodeCreate: a code issued without a pending request (a silent
// authorization) reads back whole, its connector data included.
func testCodeCreate(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	code := sampleCode(clock)
	code.ConnectorData = sampleData("silent")
	if err := s.CreateCode(ctx, code); err != nil {
		t.Fatalf("CreateCode: %v", err)
	}
	got, err := s.Code(ctx, code.ID)
	if err != nil || !equalCodes(got, code) {
		t.Fatalf("Code:\n got %+v, %v\nwant %+v", got, err, code)
	}
	wantErr(t, "CreateCode of an existing id", s.CreateCode(ctx, code), oidc.ErrConflict)
	bare := oidc.AuthCode{ID: uniqueID("bare"), ClientID: "c", Expiry: clock.Now().Add(time.Minute)}
	if err := s.CreateCode(ctx, bare); err != nil {
		t.Fatalf("CreateCode(bare): %v", err)
	}
	if got, err := s.Code(ctx, bare.ID); err != nil || !equalCodes(got, bare) {
		t.Errorf("Code(bare):\n got %+v, %v\nwant %+v", got, err, bare)
	}
	if err := s.RedeemCode(ctx, code.ID, nil); err != nil {
		t.Fatalf("RedeemCode: %v", err)
	}
	if got, err := s.Code(ctx, code.ID); err != nil || !got.Consumed || string(got.ConnectorData) != string(code.ConnectorData) {
		t.Errorf("redeemed code: %+v, %v; want consumed, with its connector data", got, err)
	}
}

func testCodeRedeemOnce(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	r := sampleRequest(clock)
	mustCreate(t, s, r)
	code := sampleCode(clock)
	if err := s.CompleteAuthRequest(ctx, r.ID, 1, &code); err != nil {
		t.Fatalf("CompleteAuthRequest: %v", err)
	}
	if err := s.RedeemCode(ctx, code.ID, nil); err != nil {
		t.Fatalf("RedeemCode: %v", err)
	}
	wantErr(t, "second RedeemCode", s.RedeemCode(ctx, code.ID, nil), oidc.ErrNotFound)
	got, err := s.Code(ctx, code.ID)
	if err != nil {
		t.Fatalf("Code after redemption (kept to detect replay): %v", err)
	}
	if !got.Consumed {
		t.Errorf("Code after redemption: Consumed = false; want true")
	}
	wantErr(t, "RedeemCode(unknown)", s.RedeemCode(ctx, uniqueID("none"), nil), oidc.ErrNotFound)
	_, err = s.Code(ctx, uniqueID("none"))
	wantErr(t, "Code(unknown)", err, oidc.ErrNotFound)
}

func testCodeExpiry(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	r := sampleRequest(clock)
	mustCreate(t, s, r)
	code := sampleCode(clock)
	code.Expiry = clock.Now().Add(30 * time.Second)
	if err := s.CompleteAuthRequest(ctx, r.ID, 1, &code); err != nil {
		t.Fatalf("CompleteAuthRequest: %v", err)
	}
	clock.Advance(29 * time.Second)
	if _, err := s.Code(ctx, code.ID); err != nil {
		t.Fatalf("Code one second before expiry: %v", err)
	}
	clock.Advance(time.Second)
	_, err := s.Code(ctx, code.ID)
	wantErr(t, "Code at expiry", err, oidc.ErrNotFound)
	wantErr(t, "RedeemCode at expiry", s.RedeemCode(ctx, code.ID, nil), oidc.ErrNotFound)
}

// testCodeRedeemConcurrent: 50 goroutines redeem one code; exactly one wins.
func testCodeRedeemConcurrent(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	r := sampleRequest(clock)
	mustCreate(t, s, r)
	code := sampleCode(clock)
	if err := s.CompleteAuthRequest(ctx, r.ID, 1, &code); err != nil {
		t.Fatalf("CompleteAuthRequest: %v", err)
	}
	const n = 50
	var wins, losses atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			switch err := s.RedeemCode(ctx, code.ID, nil); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, oidc.ErrNotFound):
				losses.Add(1)
			default:
				t.Errorf("RedeemCode: unexpected error %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || losses.Load() != n-1 {
		t.Errorf("%d winners, %d ErrNotFound of %d; want 1 and %d", wins.Load(), losses.Load(), n, n-1)
	}
}

func equalCodes(a, b oidc.AuthCode) bool {
	if !a.AuthTime.Equal(b.AuthTime) || !a.Expiry.Equal(b.Expiry) {
		return false
	}
	a.AuthTime, b.AuthTime, a.Expiry, b.Expiry = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	a.Scopes, b.Scopes = emptyNil(a.Scopes), emptyNil(b.Scopes)
	a.AMR, b.AMR = emptyNil(a.AMR), emptyNil(b.AMR)
	a.Resources, b.Resources = emptyNil(a.Resources), emptyNil(b.Resources)
	a.ConnectorData, b.ConnectorData = emptyNilBytes(a.ConnectorData), emptyNilBytes(b.ConnectorData)
	return reflect.DeepEqual(a, b)
}
