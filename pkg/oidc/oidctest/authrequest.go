// The auth request cases of the storage contract: create, read, expire,
// versioned update, and completion into a code.

package oidctest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func testAuthRequestRoundTrip(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	want := sampleRequest(clock)
	mustCreate(t, s, want)
	got, err := s.AuthRequest(ctx, want.ID)
	if err != nil {
		t.Fatalf("AuthRequest: %v", err)
	}
	want.Version = 1
	if !equalRequests(got, want) {
		t.Errorf("AuthRequest:\n got %+v\nwant %+v", got, want)
	}
	wantErr(t, "CreateAuthRequest of an existing id", s.CreateAuthRequest(ctx, want), oidc.ErrConflict)
	// Empty optional fields survive too.
	bare := oidc.AuthRequest{ID: uniqueID("bare"), ClientID: "c", MaxAge: -1, Expiry: clock.Now().Add(time.Minute)}
	mustCreate(t, s, bare)
	got, err = s.AuthRequest(ctx, bare.ID)
	if err != nil {
		t.Fatalf("AuthRequest(bare): %v", err)
	}
	bare.Version = 1
	if !equalRequests(got, bare) {
		t.Errorf("AuthRequest(bare):\n got %+v\nwant %+v", got, bare)
	}
}

func testAuthRequestUnknown(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	_, err := s.AuthRequest(ctx, uniqueID("none"))
	wantErr(t, "AuthRequest(unknown)", err, oidc.ErrNotFound)
	r := sampleRequest(clock)
	r.Version = 1
	wantErr(t, "UpdateAuthRequest(unknown)", s.UpdateAuthRequest(ctx, r), oidc.ErrNotFound)
	wantErr(t, "CompleteAuthRequest(unknown)", s.CompleteAuthRequest(ctx, r.ID, 1, nil), oidc.ErrNotFound)
}

func testAuthRequestExpiry(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	r := sampleRequest(clock)
	r.Expiry = clock.Now().Add(10 * time.Second)
	mustCreate(t, s, r)
	clock.Advance(9 * time.Second)
	if _, err := s.AuthRequest(ctx, r.ID); err != nil {
		t.Fatalf("AuthRequest one second before expiry: %v", err)
	}
	clock.Advance(time.Second)
	_, err := s.AuthRequest(ctx, r.ID)
	wantErr(t, "AuthRequest at expiry", err, oidc.ErrNotFound)
	r.Version = 1
	wantErr(t, "UpdateAuthRequest after expiry", s.UpdateAuthRequest(ctx, r), oidc.ErrNotFound)
	code := sampleCode(clock)
	wantErr(t, "CompleteAuthRequest after expiry", s.CompleteAuthRequest(ctx, r.ID, 1, &code), oidc.ErrNotFound)
	_, err = s.Code(ctx, code.ID)
	wantErr(t, "Code stored by a failed completion", err, oidc.ErrNotFound)
}

func testAuthRequestUpdate(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	r := sampleRequest(clock)
	mustCreate(t, s, r)
	r, _ = s.AuthRequest(ctx, r.ID)
	stale := r

	// As after an upstream login: the user, and the connector's data.
	r.Subject, r.AuthTime, r.AMR = "user-1", clock.Now(), []string{"pwd"}
	r.ConnectorData = sampleData("request")
	if err := s.UpdateAuthRequest(ctx, r); err != nil {
		t.Fatalf("UpdateAuthRequest: %v", err)
	}
	got, err := s.AuthRequest(ctx, r.ID)
	if err != nil {
		t.Fatalf("AuthRequest: %v", err)
	}
	r.Version = 2
	if !equalRequests(got, r) {
		t.Errorf("after update:\n got %+v\nwant %+v", got, r)
	}
	stale.Subject = "attacker"
	wantErr(t, "UpdateAuthRequest from a stale version", s.UpdateAuthRequest(ctx, stale), oidc.ErrConflict)
	wantErr(t, "CompleteAuthRequest from a stale version", s.CompleteAuthRequest(ctx, r.ID, 1, nil), oidc.ErrConflict)
	if got, _ := s.AuthRequest(ctx, r.ID); got.Subject != "user-1" {
		t.Errorf("Subject after stale writes = %q; want %q", got.Subject, "user-1")
	}
}

// testAuthRequestConcurrentUpdates: writers that retry on ErrConflict never
// lose each other's writes.
func testAuthRequestConcurrentUpdates(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	r := sampleRequest(clock)
	r.AMR = nil
	mustCreate(t, s, r)
	const writers = 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			for attempt := 0; attempt < 100; attempt++ {
				cur, err := s.AuthRequest(ctx, r.ID)
				if err != nil {
					errs <- err
					return
				}
				cur.AMR = append(cur.AMR, fmt.Sprint(i))
				err = s.UpdateAuthRequest(ctx, cur)
				if err == nil {
					return
				}
				if !errors.Is(err, oidc.ErrConflict) {
					errs <- err
					return
				}
			}
			errs <- errors.New("no success after 100 attempts")
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	got, err := s.AuthRequest(ctx, r.ID)
	if err != nil {
		t.Fatalf("AuthRequest: %v", err)
	}
	if len(got.AMR) != writers || got.Version != writers+1 {
		t.Errorf("after %d writers: %d values, version %d; want %d values, version %d", writers, len(got.AMR), got.Version, writers, writers+1)
	}
}

func testCompleteAuthRequest(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	r := sampleRequest(clock)
	mustCreate(t, s, r)
	code := sampleCode(clock)
	if err := s.CompleteAuthRequest(ctx, r.ID, 1, &code); err != nil {
		t.Fatalf("CompleteAuthRequest: %v", err)
	}
	_, err := s.AuthRequest(ctx, r.ID)
	wantErr(t, "AuthRequest after completion", err, oidc.ErrNotFound)
	got, err := s.Code(ctx, code.ID)
	if err != nil {
		t.Fatalf("Code: %v", err)
	}
	if !equalCodes(got, code) {
		t.Errorf("Code:\n got %+v\nwant %+v", got, code)
	}
	wantErr(t, "second CompleteAuthRequest", s.CompleteAuthRequest(ctx, r.ID, 1, nil), oidc.ErrNotFound)

	// Completing without a code (implicit flow, denied consent) only deletes.
	r2 := sampleRequest(clock)
	mustCreate(t, s, r2)
	if err := s.CompleteAuthRequest(ctx, r2.ID, 1, nil); err != nil {
		t.Fatalf("CompleteAuthRequest(nil code): %v", err)
	}
	_, err = s.AuthRequest(ctx, r2.ID)
	wantErr(t, "AuthRequest after completion without code", err, oidc.ErrNotFound)
}

// testCompleteAuthRequestConcurrent: of 20 concurrent completions of one
// request, each with its own code, exactly one stores its code.
func testCompleteAuthRequestConcurrent(t *testing.T, s Store, clock *Clock) {
	ctx := context.Background()
	r := sampleRequest(clock)
	mustCreate(t, s, r)
	const n = 20
	codes := make([]oidc.AuthCode, n)
	results := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		codes[i] = sampleCode(clock)
		wg.Go(func() { results[i] = s.CompleteAuthRequest(ctx, r.ID, 1, &codes[i]) })
	}
	wg.Wait()
	winners := 0
	for i, err := range results {
		_, codeErr := s.Code(ctx, codes[i].ID)
		switch {
		case err == nil:
			winners++
			if codeErr != nil {
				t.Errorf("winner's code not stored: %v", codeErr)
			}
		case errors.Is(err, oidc.ErrNotFound) || errors.Is(err, oidc.ErrConflict):
			if codeErr == nil {
				t.Errorf("loser %d stored its code", i)
			}
		default:
			t.Errorf("CompleteAuthRequest: unexpected error %v", err)
		}
	}
	if winners != 1 {
		t.Errorf("%d completions succeeded; want exactly 1", winners)
	}
}

// Times are compared by instant (stores may change the location).
func equalRequests(a, b oidc.AuthRequest) bool {
	if !a.AuthTime.Equal(b.AuthTime) || !a.Expiry.Equal(b.Expiry) {
		return false
	}
	a.AuthTime, b.AuthTime, a.Expiry, b.Expiry = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// normalize treats nil and empty slices alike: backends differ there and
// nothing in the core depends on the difference.
func normalize(r oidc.AuthRequest) oidc.AuthRequest {
	r.Scopes, r.Prompt, r.AMR = emptyNil(r.Scopes), emptyNil(r.Prompt), emptyNil(r.AMR)
	r.ConnectorData, r.Resources = emptyNilBytes(r.ConnectorData), emptyNil(r.Resources)
	return r
}
