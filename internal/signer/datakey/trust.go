package datakey

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// RefusedMessage is the ERROR log line of a refused key item or a refused
// manifest: an alarm (a CloudWatch Logs metric filter) on it finds
// tampering. Each refused item is logged once per container.
const RefusedMessage = "oidc: signing key refused: not authenticated by the key manifest"

// trust checks what a Query returned against the manifest and returns the
// trusted set: the keys whose items the manifest lists, digest for
// digest. The manifest costs one kms:VerifyMac, and none when it is the
// one this container verified last. A manifest that does not verify, or
// was issued before one verified before (a rollback: an old manifest
// written back), is ErrManifest: nothing in the set is trusted. Manifests
// are ordered by their issue time (under the MAC; writers make it grow),
// not by the version counter, which restarts when the manifest item is
// deleted. No manifest (a new deployment, or the item deleted: the
// recovery of docs/kms.md, or a table writer) and an expired manifest
// (nobody signed for its lifetime, or a replayed old one) trust no key,
// and the next signing call makes new keys. Key items the manifest does
// not list are ignored and logged at ERROR (RefusedMessage), unless
// expired anyway (TTL reclaims retired items some time after exp).
func (s *Signer) trust(ctx context.Context, raw rawSet, now time.Time) (keySet, error) {
	set := keySet{heads: map[string]string{}}
	it := raw.manifest
	refused := map[string]string{}
	var m *manifest
	switch {
	case raw.badManifest != "":
		return keySet{}, fmt.Errorf("%w: %s", ErrManifest, raw.badManifest)
	case raw.tooMany:
		return keySet{}, fmt.Errorf("%w: more than %d items in the key set's partition (a table writer's flood?)", ErrManifest, maxSetItems)
	case it == nil && s.newest != nil:
		refused[manifestSK] = fmt.Sprintf("the manifest item is gone (one issued at %s was verified): new keys are made by the next signing call",
			fromMillis(s.newest.IssuedAt).Format(time.RFC3339Nano))
	case it == nil:
		// A new deployment: no key is trusted yet.
	case sameManifest(it, s.newest):
		// Verified before (by this container's read or write): no
		// VerifyMac, even once it has expired and trusts nothing.
		m = it.manifest()
	default:
		v, err := verify(ctx, s.o.KMS, s.o.MACKey, s.o.Table, it)
		if err != nil {
			return keySet{}, err
		}
		if n := s.newest; n != nil && (it.IssuedAt < n.IssuedAt || (it.IssuedAt == n.IssuedAt && (it.Version < n.Version || !sameManifest(it, n)))) {
			return keySet{}, fmt.Errorf("%w: version %d issued at %s precedes version %d issued at %s, verified before (a rollback: an old manifest written back)",
				ErrManifest, it.Version, v.issuedAt.Format(time.RFC3339Nano), n.Version, fromMillis(n.IssuedAt).Format(time.RFC3339Nano))
		}
		m, s.newest = v, it
	}
	if it != nil {
		set.exists, set.version, set.issuedAt = true, it.Version, fromMillis(it.IssuedAt)
	}
	var expired *manifest
	if m != nil && !now.Before(m.validUntil) {
		s.o.Logger.WarnContext(ctx, "oidc: the signing key manifest has expired: no key is trusted until a signing call makes new ones",
			"version", m.version, "validUntil", m.validUntil.Format(time.RFC3339))
		m, expired = nil, m
	}
	if m != nil {
		set.manifest, set.heads = m, maps.Clone(m.heads)
	}
	for _, k := range raw.keys {
		sk := keySK(k.pub.KeyID)
		switch want, listed := set.manifestKey(k.pub.KeyID); {
		case listed && bytes.Equal(want, k.digest):
			set.keys = append(set.keys, k)
			continue
		case expired != nil && bytes.Equal(expired.keys[k.pub.KeyID], k.digest):
			// A key of the expired set: not trusted, not an attack; the
			// next write deletes it.
			set.untrusted = append(set.untrusted, sk)
			continue
		case !k.live(now):
			continue
		case listed:
			refused[sk] = "the item differs from the one the manifest lists (altered, or an old version written back)"
		default:
			refused[sk] = "the manifest does not list it (added by a table write, moved from another table, or a newer set's key rolled back)"
		}
		if m != nil && k.createdAt.Before(m.issuedAt) {
			set.untrusted = append(set.untrusted, sk)
		}
	}
	for sk, reason := range raw.bad {
		refused[sk] = reason
		if m != nil {
			set.untrusted = append(set.untrusted, sk)
		}
	}
	s.logRefused(ctx, refused)
	return set, nil
}

// manifestKey is the digest the trusted manifest lists for kid.
func (set *keySet) manifestKey(kid string) ([]byte, bool) {
	if set.manifest == nil {
		return nil, false
	}
	d, ok := set.manifest.keys[kid]
	return d, ok
}

// maxRefusedLines bounds the ERROR lines of one read: a flood of items
// (at most maxSetItems) is logged with this many and a count.
const maxRefusedLines = 10

// logRefused logs each refused item once per container and reason (at
// most maxRefusedLines, then one line with the count) and tells
// OnRefused once if any is new.
func (s *Signer) logRefused(ctx context.Context, refused map[string]string) {
	n := 0
	for _, sk := range slices.Sorted(maps.Keys(refused)) {
		reason := refused[sk]
		if s.refused[sk] == reason {
			continue
		}
		if n++; n <= maxRefusedLines {
			s.o.Logger.ErrorContext(ctx, RefusedMessage, "table", s.o.Table, "item", sk, "reason", reason)
		}
	}
	if n > maxRefusedLines {
		s.o.Logger.ErrorContext(ctx, RefusedMessage, "table", s.o.Table, "items", n-maxRefusedLines, "reason", "more refused items, not logged one by one")
	}
	if n > 0 && s.o.OnRefused != nil {
		s.o.OnRefused(ctx)
	}
	s.refused = refused
}
