package datakey

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"time"
)

// RefusedMessage is the ERROR log line of a refused key item or a refused
// manifest: an alarm (a CloudWatch Logs metric filter) on it finds
// tampering. Each refused item is logged once per container.
const RefusedMessage = "oidc: signing key refused: not authenticated by the key manifest"

// trust checks what a Query returned against the manifest and returns the
// trusted set: the keys whose items the manifest lists, digest for
// digest. The manifest costs one kms:VerifyMac, and none when it is the
// one this container verified last. A manifest that does not verify, is
// older than one verified before, or disappeared after one was verified
// is ErrManifest: nothing in the set is trusted. An expired manifest
// (nobody signed for ManifestLifetime, or a replayed old one) trusts no
// key, and the next signing call makes new keys. Key items the manifest
// does not list are ignored and logged at ERROR (RefusedMessage), unless
// expired anyway (TTL reclaims retired items some time after exp).
func (s *Signer) trust(ctx context.Context, raw rawSet, now time.Time) (keySet, error) {
	set := keySet{heads: map[string]string{}}
	it := raw.manifest
	var m *manifest
	switch {
	case raw.badManifest != "":
		return keySet{}, fmt.Errorf("%w: %s", ErrManifest, raw.badManifest)
	case it == nil && s.maxVersion > 0:
		return keySet{}, fmt.Errorf("%w: the manifest item is gone (version %d was verified)", ErrManifest, s.maxVersion)
	case it == nil:
		// A new deployment: no key is trusted yet.
	case sameManifest(it, s.set.stored):
		m = s.set.manifest
	default:
		v, err := verify(ctx, s.o.KMS, s.o.MACKey, s.o.Table, it)
		if err != nil {
			return keySet{}, err
		}
		if v.version < s.maxVersion || (v.version == s.maxVersion && s.set.stored != nil && !sameManifest(it, s.set.stored)) {
			return keySet{}, fmt.Errorf("%w: version %d is older than version %d, verified before (a replay)", ErrManifest, v.version, s.maxVersion)
		}
		m, s.maxVersion = v, v.version
	}
	if it != nil {
		set.exists, set.version = true, it.Version
	}
	var expired *manifest
	if m != nil && !now.Before(m.validUntil) {
		s.o.Logger.WarnContext(ctx, "oidc: the signing key manifest has expired: no key is trusted until a signing call makes new ones",
			"version", m.version, "validUntil", m.validUntil.Format(time.RFC3339))
		m, expired = nil, m
	}
	if m != nil {
		set.manifest, set.stored, set.heads = m, it, maps.Clone(m.heads)
	}
	refused := map[string]string{}
	for _, k := range raw.keys {
		switch want, listed := set.manifestKey(k.pub.KeyID); {
		case listed && bytes.Equal(want, k.digest):
			set.keys = append(set.keys, k)
		case expired != nil && bytes.Equal(expired.keys[k.pub.KeyID], k.digest):
			// A key of the expired set: not trusted, not an attack; the
			// next write deletes it.
			set.untrusted = append(set.untrusted, keySK(k.pub.KeyID))
		case !k.live(now):
		case listed:
			refused[keySK(k.pub.KeyID)] = "the item differs from the one the manifest lists (altered, or an old version written back)"
		default:
			refused[keySK(k.pub.KeyID)] = "the manifest does not list it (added by a table write, or moved from another table)"
		}
	}
	maps.Copy(refused, raw.bad)
	s.logRefused(ctx, refused)
	for sk := range refused {
		set.untrusted = append(set.untrusted, sk)
	}
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

// logRefused logs each refused item once per container and reason.
func (s *Signer) logRefused(ctx context.Context, refused map[string]string) {
	for sk, reason := range refused {
		if s.refused[sk] == reason {
			continue
		}
		s.o.Logger.ErrorContext(ctx, RefusedMessage, "table", s.o.Table, "item", sk, "reason", reason)
	}
	s.refused = refused
}
