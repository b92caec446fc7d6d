package local_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

const period = 6 * time.Hour

func newRotating(t *testing.T, alg string) (*local.Rotating, *oidctest.Clock) {
	t.Helper()
	clock := oidctest.NewClock()
	r, err := local.NewRotating([]string{alg}, period, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return r, clock
}

// kids returns the kids of the published keys, in order.
func kids(t *testing.T, s oidc.Signer) []string {
	t.Helper()
	keys, err := s.PublicKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.KeyID)
	}
	return out
}

func signingKid(t *testing.T, s oidc.Signer) string {
	t.Helper()
	pk, err := s.SigningKey(t.Context(), s.(*local.Rotating).Algorithms()[0])
	if err != nil {
		t.Fatal(err)
	}
	return pk.KeyID
}

func sign(t *testing.T, s oidc.Signer, sub string) string {
	t.Helper()
	tok, err := oidctest.SignJWT(t.Context(), s, jwt.MapClaims{"sub": sub})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// verify checks token against the keys s publishes now.
func verify(ctx context.Context, s oidc.Signer, token string) error {
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		return err
	}
	_, err = jwt.Parse(token, func(tok *jwt.Token) (any, error) {
		for _, k := range keys {
			if k.KeyID == tok.Header["kid"] && k.Algorithm == tok.Method.Alg() {
				return k.Key, nil
			}
		}
		return nil, fmt.Errorf("no published key with kid %v", tok.Header["kid"])
	}, jwt.WithValidMethods(oidc.SigningAlgorithms))
	return err
}

func TestRotatingSchedule(t *testing.T) {
	r, clock := newRotating(t, oidc.ES256)
	start := kids(t, r)
	if len(start) != 2 {
		t.Fatalf("published at start: %v; want the current and the next key", start)
	}
	k0, k1 := start[0], start[1]
	if got, want := r.NextRotation(), clock.Now().Add(period); !got.Equal(want) {
		t.Errorf("NextRotation %v; want %v", got, want)
	}
	if got := signingKid(t, r); got != k0 {
		t.Fatalf("signing kid %s; want the current key %s", got, k0)
	}
	before := sign(t, r, "before")

	clock.Advance(period - time.Second)
	if got := kids(t, r); !slices.Equal(got, start) {
		t.Errorf("published just before the period: %v; want %v", got, start)
	}
	if got := signingKid(t, r); got != k0 {
		t.Errorf("signing kid just before the period %s; want %s", got, k0)
	}

	clock.Advance(time.Second) // one period
	one := kids(t, r)
	if len(one) != 3 || one[0] != k1 || one[2] != k0 || one[1] == k0 || one[1] == k1 {
		t.Fatalf("published after one period: %v; want [%s, a new key, %s]", one, k1, k0)
	}
	if got := signingKid(t, r); got != k1 {
		t.Errorf("signing kid after one period %s; want the next key published before, %s", got, k1)
	}
	if err := verify(t.Context(), r, before); err != nil {
		t.Errorf("a token signed before the rotation does not verify after it: %v", err)
	}
	k2 := one[1]
	if got, want := r.NextRotation(), clock.Now().Add(period); !got.Equal(want) {
		t.Errorf("NextRotation after a rotation %v; want %v", got, want)
	}
	afterOne := sign(t, r, "after one")

	clock.Advance(period)
	two := kids(t, r)
	if len(two) != 3 || two[0] != k2 || two[2] != k1 || slices.Contains(two, k0) {
		t.Fatalf("published after two periods: %v; want [%s, a new key, %s], without %s", two, k2, k1, k0)
	}
	if got := signingKid(t, r); got != k2 {
		t.Errorf("signing kid after two periods %s; want %s", got, k2)
	}
	if err := verify(t.Context(), r, afterOne); err != nil {
		t.Errorf("a token signed one period ago does not verify: %v", err)
	}
	if err := verify(t.Context(), r, before); err == nil {
		t.Error("a token of a key two rotations old still verifies")
	}
}

// TestRotatingIdle: however many periods pass without a call, the signer
// rotates once, so the key that signs is always one published before.
func TestRotatingIdle(t *testing.T) {
	r, clock := newRotating(t, oidc.ES256)
	start := kids(t, r)
	clock.Advance(5*period + time.Minute)
	got := kids(t, r)
	if got[0] != start[1] || got[2] != start[0] {
		t.Errorf("published after five idle periods: %v; want [%s, a new key, %s]", got, start[1], start[0])
	}
	// The schedule restarts at that rotation: the new next key waits a period.
	clock.Advance(period - time.Second)
	if again := kids(t, r); !slices.Equal(again, got) {
		t.Errorf("rotated again before a period: %v; want %v", again, got)
	}
}

// TestRotatingSignerContract runs the signer contract at start and after
// one and two rotations (past the grace of the previous key).
func TestRotatingSignerContract(t *testing.T) {
	for _, alg := range oidc.SigningAlgorithms {
		t.Run(alg, func(t *testing.T) {
			r, clock := newRotating(t, alg)
			for i := range 3 {
				t.Run(fmt.Sprintf("rotations=%d", i), func(t *testing.T) {
					oidctest.TestSigner(t, r, oidctest.WithAlgorithms(alg))
				})
				clock.Advance(period)
				kids(t, r)                 // rotates, at the clock's time
				clock.Advance(time.Minute) // past the previous key's grace
			}
		})
	}
}

// TestRotatingBoth: the default rotates an RSA key and a P-256 key
// together; each set is published whole, the current keys first.
func TestRotatingBoth(t *testing.T) {
	clock := oidctest.NewClock()
	r, err := local.NewRotating(nil, period, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		t.Run(fmt.Sprintf("rotations=%d", i), func(t *testing.T) {
			oidctest.TestSigner(t, r, oidctest.WithAlgorithms(oidc.RS256, oidc.ES256))
			want := 4 // current and next, two keys each
			if i > 0 {
				want = 6 // and the previous set
			}
			if got := len(kids(t, r)); got != want {
				t.Errorf("%d keys published; want %d", got, want)
			}
		})
		clock.Advance(period)
		kids(t, r)
		clock.Advance(time.Minute)
	}
}

// TestRotatingGrace: the key that signed until a rotation may finish a
// token begun before it for a few seconds; the next key never signs.
func TestRotatingGrace(t *testing.T) {
	r, clock := newRotating(t, oidc.ES256)
	ctx := t.Context()
	start := kids(t, r)
	if _, err := r.Sign(ctx, start[1], []byte("e30.e30")); err == nil {
		t.Errorf("the next key %s signed before its rotation", start[1])
	}
	clock.Advance(period)
	if _, err := r.Sign(ctx, start[0], []byte("e30.e30")); err != nil {
		t.Errorf("the previous key right after the rotation: %v; want a signature", err)
	}
	next := kids(t, r)[1]
	if _, err := r.Sign(ctx, next, []byte("e30.e30")); err == nil {
		t.Errorf("the new next key %s signed", next)
	}
	clock.Advance(time.Minute)
	if _, err := r.Sign(ctx, start[0], []byte("e30.e30")); err == nil {
		t.Error("the previous key still signs a minute after the rotation")
	}
}

// TestRotatingConcurrent signs from many goroutines while the clock passes
// a rotation, in several rounds: every SigningKey-then-Sign succeeds and
// verifies with the keys published right after. Run it with -race.
func TestRotatingConcurrent(t *testing.T) {
	r, clock := newRotating(t, oidc.ES256)
	const workers, perWorker, rounds = 8, 20, 3
	for round := range rounds {
		var (
			wg     sync.WaitGroup
			signed atomic.Int32
		)
		start := make(chan struct{})
		errs := make(chan error, workers*perWorker)
		for w := range workers {
			wg.Go(func() {
				<-start
				for i := range perWorker {
					tok, err := oidctest.SignJWT(t.Context(), r, jwt.MapClaims{"sub": fmt.Sprint(round, w, i)})
					if err == nil {
						err = verify(t.Context(), r, tok)
					}
					if err != nil {
						errs <- err
					}
					signed.Add(1)
				}
			})
		}
		close(start)
		for signed.Load() < workers*perWorker/2 {
			runtime.Gosched()
		}
		clock.Advance(period) // one rotation amid the signing
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
	}
}

func TestNewRotatingRejects(t *testing.T) {
	now := oidctest.NewClock().Now
	if _, err := local.NewRotating([]string{oidc.RS256}, 0, now); err == nil {
		t.Error("NewRotating with period 0 succeeded")
	}
	if _, err := local.NewRotating([]string{oidc.RS256}, time.Hour, nil); err == nil {
		t.Error("NewRotating without a clock succeeded")
	}
	if _, err := local.NewRotating([]string{"HS256"}, time.Hour, now); err == nil {
		t.Error("NewRotating HS256 succeeded")
	}
}
