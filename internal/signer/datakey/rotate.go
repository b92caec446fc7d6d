package datakey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// firstKeyBackdate backdates the notBefore of a key that signs at once (a
// first key) so that instances whose clocks are slightly behind the
// creator's sign with it too; nothing was signed before it.
const firstKeyBackdate = time.Minute

// create makes a new key of alg and writes it as the newest one, after
// prev (the head; "" if there is none). With immediate (no key of alg
// signs yet: a new deployment) it signs at once; otherwise it signs
// PublishLead from now, and prev is retired then. Losing the race to
// another instance reloads the set and returns the winner's key that
// signs now. The caller holds s.mu.
func (s *Signer) create(ctx context.Context, alg, prev string, immediate bool) (*storedKey, error) {
	now := s.o.Now()
	k, priv, err := wrap(ctx, s.o.KMS, s.o.WrappingKey, alg, now)
	if err != nil {
		return nil, err
	}
	k.notBefore = now.Add(-firstKeyBackdate)
	if !immediate {
		k.notBefore = now.Add(PublishLead)
	}
	retireAt := k.notBefore.Add(s.o.TokenLifetime + RetireMargin)
	err = s.table.create(ctx, k, prev, retireAt)
	if errors.Is(err, ErrLostRace) {
		if err := s.refresh(ctx, true); err != nil {
			return nil, err
		}
		if a := s.active(alg, s.o.Now()); a != nil {
			return a, nil
		}
		return nil, fmt.Errorf("%w: %w, and no %s key signs yet", oidc.ErrUnavailable, ErrLostRace, alg)
	}
	if err != nil {
		return nil, err
	}
	for _, old := range s.set.keys {
		if old.pub.KeyID == prev {
			old.expiry = retireAt
		}
	}
	s.set.keys = append(s.set.keys, k)
	s.set.heads[alg] = k.pub.KeyID
	s.priv[k.pub.KeyID] = priv
	s.o.Logger.InfoContext(ctx, "oidc: new signing key", "alg", alg, "kid", k.pub.KeyID,
		"notBefore", k.notBefore.Format(time.RFC3339), "previous", prev)
	return k, nil
}

// Rotate creates a successor for the newest key of each algorithm (or a
// first key where there is none, which signs at once): the successor is
// published now and signs PublishLead from now; the key it replaces stays
// published until every token it signed has expired. For an
// operator's tool or a schedule (no oidcctl command yet); it needs
// kms:Encrypt.
func (s *Signer) Rotate(ctx context.Context) ([]oidc.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx, true); err != nil {
		return nil, err
	}
	var made []oidc.PublicKey
	for _, alg := range s.o.Algorithms {
		head := s.set.heads[alg]
		k, err := s.create(ctx, alg, head, head == "")
		if err != nil {
			return made, err
		}
		made = append(made, k.pub)
	}
	return made, nil
}

// KeyInfo describes a stored key for operators.
type KeyInfo struct {
	KeyID, Algorithm string
	CreatedAt        time.Time
	NotBefore        time.Time // signs from
	Expiry           time.Time // published until; zero while newest
}

// Keys lists the stored keys, as read now (one Query, no KMS call): for
// operators and tests.
func (s *Signer) Keys(ctx context.Context) ([]KeyInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx, true); err != nil {
		return nil, err
	}
	var out []KeyInfo
	for _, k := range s.set.keys {
		out = append(out, KeyInfo{KeyID: k.pub.KeyID, Algorithm: k.pub.Algorithm, CreatedAt: k.createdAt, NotBefore: k.notBefore, Expiry: k.expiry})
	}
	return out, nil
}
