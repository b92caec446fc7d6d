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

// RefreshStore is everything the refresh token part of the contract covers.
type RefreshStore interface {
	Store
	oidc.RefreshStore
	oidc.RevocationStore
}

// NewRefreshStore returns an empty store that reads time from clock.Now.
type NewRefreshStore func(t *testing.T, clock *Clock) RefreshStore

// TestRefreshStorage is the refresh token and revocation part of the
// storage contract; every store MUST pass it.
func TestRefreshStorage(t *testing.T, newStore NewRefreshStore) {
	runSuite(t, newStore, []subtest[RefreshStore]{
		{"CreateRefreshGrant", testCreateRefreshGrant},
		{"RedeemCodeCreatesGrant", testRedeemCodeCreatesGrant},
		{"RedeemCodeConcurrentCreatesOneGrant", testRedeemCodeConcurrentCreatesOneGrant},
		{"RefreshGrantExpiry", testRefreshGrantExpiry},
		{"UpdateRefreshGrant", testUpdateRefreshGrant},
		{"UpdateRefreshGrantConcurrent", testUpdateRefreshGrantConcurrent},
		{"RevokeRefreshGrant", testRevokeRefreshGrant},
		{"AccessTokenRevocation", testAccessTokenRevocation},
	})
}

func sampleGrant(clock *Clock) oidc.RefreshGrant {
	now := clock.Now()
	return oidc.RefreshGrant{
		ID:            uniqueID("grant"),
		ClientID:      "example-app",
		Subject:       "user-1",
		Scopes:        []string{"openid", "offline_access"},
		AuthTime:      now.Add(-time.Minute),
		AMR:           []string{"pwd"},
		Claims:        `{"userinfo":{"email":null}}`,
		Resources:     []string{"https://api.example.com", "https://reports.example.com"},
		TokenHash:     oidc.HashSecret("token-1"),
		ConnectorData: sampleData("grant"),
		RotatedAt:     now,
		Generation:    1,
		CreatedAt:     now,
		LastUsed:      now,
		Expiry:        now.Add(time.Hour),
	}
}

// redeemWithGrant stores a code and redeems it, creating g.
func redeemWithGrant(t *testing.T, s RefreshStore, clock *Clock, g oidc.RefreshGrant) oidc.AuthCode {
	t.Helper()
	ctx := context.Background()
	r := sampleRequest(clock)
	mustCreate(t, s, r)
	code := sampleCode(clock)
	if err := s.CompleteAuthRequest(ctx, r.ID, 1, &code); err != nil {
		t.Fatalf("CompleteAuthRequest: %v", err)
	}
	if err := s.RedeemCode(ctx, code.ID, &g); err != nil {
		t.Fatalf("RedeemCode with grant: %v", err)
	}
	return code
}

func equalGrants(a, b oidc.RefreshGrant) bool {
	for _, p := range [][2]time.Time{{a.AuthTime, b.AuthTime}, {a.RotatedAt, b.RotatedAt}, {a.CreatedAt, b.CreatedAt}, {a.LastUsed, b.LastUsed}, {a.Expiry, b.Expiry}} {
		if !p[0].Equal(p[1]) {
			return false
		}
	}
	a.AuthTime, a.RotatedAt, a.CreatedAt, a.LastUsed, a.Expiry = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	b.AuthTime, b.RotatedAt, b.CreatedAt, b.LastUsed, b.Expiry = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	a.Scopes, b.Scopes, a.AMR, b.AMR = emptyNil(a.Scopes), emptyNil(b.Scopes), emptyNil(a.AMR), emptyNil(b.AMR)
	if len(a.Successor) == 0 && len(b.Successor) == 0 {
		a.Successor, b.Successor = nil, nil
	}
	return string(a.ConnectorData) == string(b.ConnectorData) && a.ID == b.ID && a.ClientID == b.ClientID && a.Subject == b.Subject && equalStrings(a.Scopes, b.Scopes) &&
		equalStrings(a.AMR, b.AMR) && a.Claims == b.Claims && equalStrings(a.Resources, b.Resources) && a.TokenHash == b.TokenHash && a.PreviousHash == b.PreviousHash &&
		string(a.Successor) == string(b.Successor) && a.Generation == b.Generation && a.Revoked == b.Revoked && a.Version == b.Version
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testCreateRefreshGrant: a family created without a code reads back with
// Version 1; a second create of the id is ErrConflict and changes nothing.
func testCreateRefreshGrant(t *testing.T, s RefreshStore, clock *Clock) {
	ctx := context.Background()
	want := sampleGrant(clock)
	if err := s.CreateRefreshGrant(ctx, want); err != nil {
		t.Fatalf("CreateRefreshGrant: %v", err)
	}
	want.Version = 1
	got, err := s.RefreshGrant(ctx, want.ID)
	if err != nil || !equalGrants(got, want) {
		t.Fatalf("RefreshGrant: %+v, %v\nwant %+v", got, err, want)
	}
	other := want
	other.Subject = "someone-else"
	wantErr(t, "CreateRefreshGrant(existing id)", s.CreateRefreshGrant(ctx, other), oidc.ErrConflict)
	if got, _ := s.RefreshGrant(ctx, want.ID); got.Subject != want.Subject {
		t.Errorf("a refused create changed the family: subject %q", got.Subject)
	}
	// A family of a password login has no connector data.
	bare := sampleGrant(clock)
	bare.ConnectorData, bare.Version = nil, 1
	if err := s.CreateRefreshGrant(ctx, bare); err != nil {
		t.Fatalf("CreateRefreshGrant(bare): %v", err)
	}
	if got, err := s.RefreshGrant(ctx, bare.ID); err != nil || !equalGrants(got, bare) {
		t.Errorf("RefreshGrant(bare): %+v, %v\nwant %+v", got, err, bare)
	}
}

func testRedeemCodeCreatesGrant(t *testing.T, s RefreshStore, clock *Clock) {
	ctx := context.Background()
	want := sampleGrant(clock)
	code := redeemWithGrant(t, s, clock, want)
	got, err := s.RefreshGrant(ctx, want.ID)
	if err != nil {
		t.Fatalf("RefreshGrant: %v", err)
	}
	want.Version = 1
	if !equalGrants(got, want) {
		t.Errorf("RefreshGrant:\n got %+v\nwant %+v", got, want)
	}
	c, err := s.Code(ctx, code.ID)
	if err != nil || !c.Consumed || c.GrantID != want.ID {
		t.Errorf("redeemed code: %+v, %v; want consumed with GrantID %s", c, err, want.ID)
	}
	_, err = s.RefreshGrant(ctx, uniqueID("none"))
	wantErr(t, "RefreshGrant(unknown)", err, oidc.ErrNotFound)
}

// testRedeemCodeConcurrentCreatesOneGrant: of 20 concurrent redemptions,
// each with its own grant, exactly one grant exists afterwards.
func testRedeemCodeConcurrentCreatesOneGrant(t *testing.T, s RefreshStore, clock *Clock) {
	ctx := context.Background()
	r := sampleRequest(clock)
	mustCreate(t, s, r)
	code := sampleCode(clock)
	if err := s.CompleteAuthRequest(ctx, r.ID, 1, &code); err != nil {
		t.Fatal(err)
	}
	const n = 20
	grants := make([]oidc.RefreshGrant, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		grants[i] = sampleGrant(clock)
		wg.Go(func() { errs[i] = s.RedeemCode(ctx, code.ID, &grants[i]) })
	}
	wg.Wait()
	stored := 0
	for i := range n {
		_, err := s.RefreshGrant(ctx, grants[i].ID)
		if err == nil {
			stored++
			if errs[i] != nil {
				t.Errorf("a loser's grant was stored")
			}
		} else if errs[i] == nil {
			t.Errorf("the winner's grant is missing: %v", err)
		}
	}
	if stored != 1 {
		t.Errorf("%d grants stored; want exactly 1", stored)
	}
}

func testRefreshGrantExpiry(t *testing.T, s RefreshStore, clock *Clock) {
	ctx := context.Background()
	g := sampleGrant(clock)
	g.Expiry = clock.Now().Add(10 * time.Second)
	redeemWithGrant(t, s, clock, g)
	clock.Advance(9 * time.Second)
	if _, err := s.RefreshGrant(ctx, g.ID); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
	clock.Advance(time.Second)
	_, err := s.RefreshGrant(ctx, g.ID)
	wantErr(t, "RefreshGrant at expiry", err, oidc.ErrNotFound)
	g.Version = 1
	wantErr(t, "UpdateRefreshGrant after expiry", s.UpdateRefreshGrant(ctx, g), oidc.ErrNotFound)
	wantErr(t, "RevokeRefreshGrant after expiry", s.RevokeRefreshGrant(ctx, g.ID, clock.Now().Add(time.Hour)), oidc.ErrNotFound)
}

func testUpdateRefreshGrant(t *testing.T, s RefreshStore, clock *Clock) {
	ctx := context.Background()
	g := sampleGrant(clock)
	redeemWithGrant(t, s, clock, g)
	g, _ = s.RefreshGrant(ctx, g.ID)
	stale := g
	clock.Advance(time.Minute)
	g.PreviousHash, g.TokenHash, g.Successor = g.TokenHash, oidc.HashSecret("token-2"), []byte{1, 2, 3, 0, 255}
	g.Generation, g.RotatedAt, g.LastUsed, g.Expiry = 2, clock.Now(), clock.Now(), clock.Now().Add(2*time.Hour)
	g.ConnectorData = sampleData("rotated upstream refresh token") // an upstream refresh reseals it
	if err := s.UpdateRefreshGrant(ctx, g); err != nil {
		t.Fatalf("UpdateRefreshGrant: %v", err)
	}
	got, err := s.RefreshGrant(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	g.Version = 2
	if !equalGrants(got, g) {
		t.Errorf("after update:\n got %+v\nwant %+v", got, g)
	}
	stale.TokenHash = "attacker"
	wantErr(t, "UpdateRefreshGrant from a stale version", s.UpdateRefreshGrant(ctx, stale), oidc.ErrConflict)
}

// testUpdateRefreshGrantConcurrent: 50 rotations from one version; exactly
// one lands (a token is rotated at most once).
func testUpdateRefreshGrantConcurrent(t *testing.T, s RefreshStore, clock *Clock) {
	ctx := context.Background()
	g := sampleGrant(clock)
	redeemWithGrant(t, s, clock, g)
	g, _ = s.RefreshGrant(ctx, g.ID)
	const n = 50
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		next := g
		next.TokenHash = oidc.HashSecret(uniqueID("succ"))
		next.Generation = int64(100 + i)
		wg.Go(func() {
			<-start
			switch err := s.UpdateRefreshGrant(ctx, next); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, oidc.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("UpdateRefreshGrant: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != n-1 {
		t.Errorf("%d wins, %d conflicts; want 1 and %d", wins.Load(), conflicts.Load(), n-1)
	}
}

func testRevokeRefreshGrant(t *testing.T, s RefreshStore, clock *Clock) {
	ctx := context.Background()
	g := sampleGrant(clock)
	g.Expiry = clock.Now().Add(time.Minute)
	redeemWithGrant(t, s, clock, g)
	before, err := s.RefreshGrant(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	keep := clock.Now().Add(time.Hour)
	if err := s.RevokeRefreshGrant(ctx, g.ID, keep); err != nil {
		t.Fatalf("RevokeRefreshGrant: %v", err)
	}
	if err := s.RevokeRefreshGrant(ctx, g.ID, keep); err != nil {
		t.Fatalf("RevokeRefreshGrant again (idempotent): %v", err)
	}
	got, err := s.RefreshGrant(ctx, g.ID)
	if err != nil || !got.Revoked {
		t.Fatalf("after revocation: %+v %v; want revoked", got, err)
	}
	if !got.Expiry.Equal(keep) {
		t.Errorf("Expiry = %v; want extended to %v", got.Expiry, keep)
	}
	// A revoked family makes its access tokens revoked, in one call.
	revoked, err := s.AccessTokenRevoked(ctx, uniqueID("jti"), g.ID)
	if err != nil || !revoked {
		t.Errorf("AccessTokenRevoked(family revoked) = %v, %v; want true", revoked, err)
	}
	// A rotation read before the revocation cannot undo it.
	before.TokenHash = oidc.HashSecret("late rotation")
	wantErr(t, "UpdateRefreshGrant from before the revocation", s.UpdateRefreshGrant(ctx, before), oidc.ErrConflict)
	if got, _ := s.RefreshGrant(ctx, g.ID); !got.Revoked {
		t.Errorf("the revocation was undone")
	}
	wantErr(t, "RevokeRefreshGrant(unknown)", s.RevokeRefreshGrant(ctx, uniqueID("none"), keep), oidc.ErrNotFound)
}

func testAccessTokenRevocation(t *testing.T, s RefreshStore, clock *Clock) {
	ctx := context.Background()
	jti, other := uniqueID("jti"), uniqueID("jti")
	g := sampleGrant(clock)
	redeemWithGrant(t, s, clock, g)
	for _, tc := range []struct{ jti, grant string }{{jti, ""}, {jti, g.ID}, {jti, uniqueID("nogrant")}} {
		if revoked, err := s.AccessTokenRevoked(ctx, tc.jti, tc.grant); err != nil || revoked {
			t.Errorf("before revocation (%q): %v %v; want false", tc.grant, revoked, err)
		}
	}
	if err := s.RevokeAccessToken(ctx, jti, clock.Now().Add(time.Minute)); err != nil {
		t.Fatalf("RevokeAccessToken: %v", err)
	}
	if revoked, err := s.AccessTokenRevoked(ctx, jti, g.ID); err != nil || !revoked {
		t.Errorf("revoked jti: %v %v; want true", revoked, err)
	}
	if revoked, _ := s.AccessTokenRevoked(ctx, other, ""); revoked {
		t.Errorf("another jti reported revoked")
	}
	clock.Advance(time.Minute)
	if revoked, err := s.AccessTokenRevoked(ctx, jti, ""); err != nil || revoked {
		t.Errorf("after the token's expiry the entry lapses: %v %v", revoked, err)
	}
}
