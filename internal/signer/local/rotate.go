package local

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// MinRotationPeriod is the shortest keysRotationPeriod: relying parties
// cache the JWKS for oidc.JWKSMaxAge, and a next key must be published at
// least that long before it signs.
const MinRotationPeriod = time.Duration(oidc.JWKSMaxAge) * time.Second

// signGrace is how long after a rotation the key that signed until then may
// still sign: the core asks SigningKey, builds the header with its kid, then
// calls Sign, and a rotation between the two must not fail the request. The
// signature verifies with the published previous key.
const signGrace = 10 * time.Second

// Rotating signs with generated keys that it rotates every period, by its
// clock. At any time it holds three keys:
//
//   - current signs;
//   - next is published but does not sign yet;
//   - previous no longer signs and is published for verification only.
//
// When a period has passed since the last rotation, next becomes current,
// current becomes previous, and a fresh next is taken. So a key is published
// for at least one period before it signs, and for at least one period after
// it stops signing: tokens that live no longer than a period verify
// throughout their life.
//
// The rotation happens on the first call after the period, under a lock; it
// only moves keys, because the fresh next key was generated ahead, in the
// background, after the previous rotation (or at start). Should that key not
// be ready, the rotating call generates one itself.
type Rotating struct {
	algorithms []string
	period     time.Duration
	now        func() time.Time
	spare      chan *Signer // at most one key generated ahead, not yet published

	mu        sync.RWMutex
	rotatedAt time.Time // when current started signing
	previous  *Signer   // nil before the first rotation
	current   *Signer
	next      *Signer
}

var _ oidc.Signer = (*Rotating)(nil)

// NewRotating generates the current and the next key for each of
// algorithms (RS256, ES256; none: both) and returns a signer that rotates
// them every period (which must be positive; the config asks for at least
// MinRotationPeriod) as now tells. The keys of all algorithms rotate
// together: current, next and previous are each a set of one key per
// algorithm.
func NewRotating(algorithms []string, period time.Duration, now func() time.Time) (*Rotating, error) {
	if period <= 0 {
		return nil, fmt.Errorf("local signer: rotation period %s must be positive", period)
	}
	if now == nil {
		return nil, errors.New("local signer: a rotating signer needs a clock")
	}
	current, err := Generate(algorithms...)
	if err != nil {
		return nil, err
	}
	next, err := Generate(algorithms...)
	if err != nil {
		return nil, err
	}
	r := &Rotating{
		algorithms: current.Algorithms(),
		period:     period,
		now:        now,
		spare:      make(chan *Signer, 1),
		rotatedAt:  now(),
		current:    current,
		next:       next,
	}
	r.generateSpare()
	return r, nil
}

// generateSpare generates the key the next rotation will publish, off the
// request path. If a spare is already waiting, the new one is dropped.
func (r *Rotating) generateSpare() {
	go func() {
		k, err := Generate(r.algorithms...)
		if err != nil {
			return // the rotation generates one itself
		}
		select {
		case r.spare <- k:
		default:
		}
	}()
}

// takeSpare returns the key generated ahead, or generates one now.
func (r *Rotating) takeSpare() (*Signer, error) {
	select {
	case k := <-r.spare:
		r.generateSpare()
		return k, nil
	default:
		return Generate(r.algorithms...)
	}
}

// keys returns the keys after rotating them if a period has passed.
// previous may be nil.
func (r *Rotating) keys() (current, next, previous *Signer, rotatedAt time.Time, err error) {
	now := r.now()
	r.mu.RLock()
	due := !now.Before(r.rotatedAt.Add(r.period))
	if !due {
		defer r.mu.RUnlock()
		return r.current, r.next, r.previous, r.rotatedAt, nil
	}
	r.mu.RUnlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	// Another caller may have rotated meanwhile. However many periods have
	// passed, rotate once: the new current key is the one published as next,
	// and the new next key is published a whole period before it signs.
	if !now.Before(r.rotatedAt.Add(r.period)) {
		fresh, err := r.takeSpare()
		if err != nil {
			return nil, nil, nil, time.Time{}, err
		}
		r.previous, r.current, r.next = r.current, r.next, fresh
		r.rotatedAt = now
	}
	return r.current, r.next, r.previous, r.rotatedAt, nil
}

// SigningKey returns the public half of the current key of alg.
func (r *Rotating) SigningKey(ctx context.Context, alg string) (oidc.PublicKey, error) {
	current, _, _, _, err := r.keys()
	if err != nil {
		return oidc.PublicKey{}, err
	}
	return current.SigningKey(ctx, alg)
}

// PublicKeys returns the current keys, then the next, then the previous
// ones (absent until the first rotation).
func (r *Rotating) PublicKeys(ctx context.Context) ([]oidc.PublicKey, error) {
	current, next, previous, _, err := r.keys()
	if err != nil {
		return nil, err
	}
	var keys []oidc.PublicKey
	for _, set := range []*Signer{current, next, previous} {
		if set != nil {
			k, _ := set.PublicKeys(ctx)
			keys = append(keys, k...)
		}
	}
	return keys, nil
}

// Sign signs with the current key, which kid must name. For signGrace after
// a rotation the previous key signs too, for a caller that read
// SigningKey just before the rotation; its signatures verify with the
// published previous key. The next key never signs.
func (r *Rotating) Sign(ctx context.Context, kid string, signingInput []byte) ([]byte, error) {
	current, _, previous, rotatedAt, err := r.keys()
	if err != nil {
		return nil, err
	}
	key := current
	if previous != nil && previous.has(kid) && r.now().Before(rotatedAt.Add(signGrace)) {
		key = previous
	}
	return key.Sign(ctx, kid, signingInput)
}

// NextRotation is when the published keys change next: a cache of
// PublicKeys (the core's JWKS) is valid until then. The keys rotate on the
// first call at or after it, so a cache that reloads then sees the new set.
func (r *Rotating) NextRotation() time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.rotatedAt.Add(r.period)
}

// Algorithms are the JWS algorithms of the keys, RS256 first.
func (r *Rotating) Algorithms() []string { return r.algorithms }

// Period is the rotation period.
func (r *Rotating) Period() time.Duration { return r.period }
