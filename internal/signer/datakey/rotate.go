package datakey

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// firstKeyBackdate backdates the notBefore of a key that signs at once (a
// first key) so that instances whose clocks are slightly behind the
// creator's sign with it too; nothing was signed before it.
const firstKeyBackdate = time.Minute

// create makes a new key of each of algs and writes them, with a new
// manifest, in one transaction. With immediate (no key of those
// algorithms signs yet: a new deployment) they sign at once; otherwise
// each signs PublishLead from now, and the key it follows (its head) is
// retired VerificationOverlap later. Losing the race to another instance
// reloads the set; if a key is still missing then (the winner changed
// something else), it tries once more. The caller holds s.mu.
func (s *Signer) create(ctx context.Context, algs []string, immediate bool) error {
	for attempt := 0; ; attempt++ {
		err := s.createOnce(ctx, algs, immediate)
		if !errors.Is(err, ErrLostRace) {
			return err
		}
		if err := s.refresh(ctx, true); err != nil {
			return err
		}
		if !immediate {
			return nil // another instance rotated or renewed; the next token retries if due
		}
		now := s.o.Now()
		var still []string
		for _, alg := range algs {
			if s.active(alg, now) == nil {
				still = append(still, alg)
			}
		}
		if len(still) == 0 {
			return nil
		}
		if attempt > 0 {
			return fmt.Errorf("%w: %w", oidc.ErrUnavailable, ErrLostRace)
		}
		algs = still
	}
}

func (s *Signer) createOnce(ctx context.Context, algs []string, immediate bool) error {
	now := s.o.Now()
	var fresh, retired []*storedKey
	privs := map[string]crypto.Signer{}
	for _, alg := range algs {
		k, priv, err := wrap(ctx, s.o.KMS, s.o.WrappingKey, alg, now)
		if err != nil {
			return err
		}
		k.notBefore = now.Add(-firstKeyBackdate)
		if immediate {
			// No key of alg signs now. A successor that waits to sign
			// (its predecessor's item was refused) never signed: it
			// leaves the set, and the new key signs at once.
			for _, o := range s.set.keys {
				if o.pub.Algorithm == alg && o.live(now) && now.Before(o.notBefore) {
					gone := *o
					gone.expiry = now
					retired = append(retired, &gone)
				}
			}
		} else {
			k.notBefore = now.Add(PublishLead)
			if i := slices.IndexFunc(s.set.keys, func(o *storedKey) bool { return o.pub.KeyID == s.set.heads[alg] }); i >= 0 {
				old := *s.set.keys[i]
				old.expiry = k.notBefore.Add(s.o.VerificationOverlap)
				retired = append(retired, &old)
			}
		}
		fresh = append(fresh, k)
		privs[k.pub.KeyID] = priv
	}
	if err := s.commit(ctx, fresh, retired); err != nil {
		return err
	}
	maps.Copy(s.priv, privs)
	for _, k := range fresh {
		s.o.Logger.InfoContext(ctx, "oidc: new signing key", "alg", k.pub.Algorithm, "kid", k.pub.KeyID,
			"notBefore", k.notBefore.Format(time.RFC3339))
	}
	return nil
}

// commit writes fresh keys (new), retired keys (new versions of trusted
// items) and a new manifest that lists them with every trusted key still
// live, one version above the one read, valid ManifestLifetime plus the
// token lifetime from now:
// one kms:GenerateMac and one transaction. With no keys it renews the
// manifest. On success the signer's set is the one written. The caller
// holds s.mu.
func (s *Signer) commit(ctx context.Context, fresh, retired []*storedKey) error {
	now := s.o.Now()
	keys := map[string]*storedKey{}
	for _, k := range s.set.keys {
		if k.live(now) {
			keys[k.pub.KeyID] = k
		}
	}
	var freshAV, retiredAV []map[string]types.AttributeValue
	for i, k := range slices.Concat(fresh, retired) {
		av, err := keyItem(k) // sets k.digest
		if err != nil {
			return err
		}
		if i < len(fresh) {
			freshAV = append(freshAV, av)
		} else {
			retiredAV = append(retiredAV, av)
		}
		keys[k.pub.KeyID] = k
	}
	// issued_at only grows along the chain of manifests, whatever the
	// writers' clocks: containers order manifests by it (a rollback is
	// refused, a recreated manifest accepted).
	issued := now
	if !s.set.issuedAt.IsZero() && !issued.After(s.set.issuedAt) {
		issued = s.set.issuedAt.Add(time.Millisecond)
	}
	m := &manifest{version: s.set.version + 1, issuedAt: issued, validUntil: issued.Add(ManifestLifetime + s.o.TokenLifetime),
		keys: map[string][]byte{}, heads: maps.Clone(s.set.heads)}
	for kid, k := range keys {
		m.keys[kid] = k.digest
	}
	for _, k := range fresh {
		m.heads[k.pub.Algorithm] = k.pub.KeyID
	}
	it, err := seal(ctx, s.o.KMS, s.o.MACKey, s.o.Table, m)
	if err != nil {
		return err
	}
	if err := s.table.write(ctx, freshAV, retiredAV, s.set.untrusted, it, s.set.version, s.set.exists); err != nil {
		return err
	}
	s.set = keySet{keys: slices.Collect(maps.Values(keys)), heads: m.heads, manifest: m, version: m.version,
		issuedAt: m.issuedAt, exists: true}
	s.newest = it
	return nil
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
	var first, next []string
	for _, alg := range s.o.Algorithms {
		if s.set.heads[alg] == "" {
			first = append(first, alg)
		} else {
			next = append(next, alg)
		}
	}
	before := map[string]bool{}
	for _, k := range s.set.keys {
		before[k.pub.KeyID] = true
	}
	for _, c := range []struct {
		algs      []string
		immediate bool
	}{{first, true}, {next, false}} {
		if len(c.algs) == 0 {
			continue
		}
		if err := s.create(ctx, c.algs, c.immediate); err != nil {
			return nil, err
		}
	}
	var made []oidc.PublicKey
	for _, k := range s.set.keys {
		if !before[k.pub.KeyID] {
			made = append(made, k.pub)
		}
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
