package datakey

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Timing of the key set. Every container re-reads the set every
// RefreshInterval (one DynamoDB Query, no KMS call); if that fails it keeps
// its set for StaleLimit at most. A new key is created PublishLead before
// it signs: every jwks container publishes it within StaleLimit, and a
// JWKS cached without it expires before it signs, with five minutes to
// spare for clocks. Behind the edge a cache may hold it twice
// oidc.JWKSMaxAge (CloudFront keeps the document up to max-age, then a
// relying party that fetched it at the last moment keeps it as long
// again: docs/deploy.md). A retired key stays published for the
// token lifetime plus RetireMargin after its successor starts signing.
const (
	RefreshInterval = 5 * time.Minute
	StaleLimit      = 10 * time.Minute
	PublishLead     = 2*time.Duration(oidc.JWKSMaxAge)*time.Second + StaleLimit + 5*time.Minute
	RetireMargin    = 5 * time.Minute
	// MinRotationPeriod is the shortest rotationPeriod: a key signs at
	// least as long as its successor waits to.
	MinRotationPeriod = PublishLead
	// signGrace: a caller that read SigningKey just before its key retired
	// may still Sign with it for this long (the key stays published).
	signGrace = 10 * time.Second
	// emptyRetry: a container that found no key of some algorithm (before
	// the first signing call creates it) reloads this soon.
	emptyRetry = 10 * time.Second
)

// Options configure New.
type Options struct {
	KMS         KMSAPI
	DynamoDB    DynamoDBAPI
	Table       string
	WrappingKey string   // symmetric KMS key id, ARN or alias
	MACKey      string   // HMAC_256 KMS key id, ARN or alias: the manifest's MAC
	Algorithms  []string // keys kept: RS256 and/or ES256 (see Algorithms)
	// TokenLifetime is the longest life of a signed token (0: one hour).
	TokenLifetime time.Duration
	// VerificationOverlap is how long a retired key stays published after
	// its successor starts signing; at least (and by default)
	// TokenLifetime + RetireMargin.
	VerificationOverlap time.Duration
	// RotationPeriod: a signing call makes a successor for a key that has
	// signed this long; 0 never (Rotate does).
	RotationPeriod time.Duration
	// SignOnly: this container signs with the keys of the set but never
	// writes it (no first key, rotation or renewal): the userinfo
	// function, whose role may decrypt keys but not make them. With no
	// key that signs, SigningKey is oidc.ErrUnavailable.
	SignOnly bool
	// OnRefused, if set, is told (once per read) that items or the
	// manifest were refused and logged (RefusedMessage): the functions'
	// SecurityEvents metric.
	OnRefused func(context.Context)
	Now       func() time.Time // nil: time.Now
	Logger    *slog.Logger     // nil: discard
}

// Signer signs with private keys kept wrapped under a KMS key in DynamoDB
// and unwrapped in the container on first use (one kms:Decrypt per key and
// container). It is a Rotator: the core's key cache reloads at
// NextRotation. Safe for concurrent use.
type Signer struct {
	o     Options
	table keyTable

	mu       sync.Mutex
	set      keySet
	loadedAt time.Time                // zero: never loaded
	priv     map[string]crypto.Signer // unwrapped keys, by kid
	newest   *manifestItem            // the newest manifest verified (nil: none yet)
	failedAt time.Time                // the last failed reload (reloads wait emptyRetry after it)
	failure  error                    // its error
	refused  map[string]string        // key items refused and logged: sk → reason
}

var _ oidc.Rotator = (*Signer)(nil)

// New returns a signer. It does no I/O: the set is read on first need.
func New(o Options) (*Signer, error) {
	switch {
	case o.KMS == nil || o.DynamoDB == nil:
		return nil, errors.New("datakey signer: nil KMS or DynamoDB client")
	case o.Table == "" || o.WrappingKey == "" || o.MACKey == "":
		return nil, errors.New("datakey signer: a table, a wrapping key and a MAC key are required")
	case len(o.Algorithms) == 0:
		return nil, errors.New("datakey signer: no algorithm")
	}
	for _, alg := range o.Algorithms {
		if !slices.Contains(oidc.SigningAlgorithms, alg) {
			return nil, fmt.Errorf("datakey signer: unknown algorithm %q", alg)
		}
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = time.Hour
	}
	o.VerificationOverlap = max(o.VerificationOverlap, o.TokenLifetime+RetireMargin)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Signer{o: o, table: keyTable{client: o.DynamoDB, name: o.Table},
		priv: map[string]crypto.Signer{}, refused: map[string]string{}}, nil
}

// SigningKey returns the public half of the key of alg that signs now.
// If there is none yet (a new deployment), it creates one, the same for
// every concurrent caller of the fleet; if RotationPeriod is set and the
// key has signed that long, it creates the successor (errors are logged:
// the current key keeps signing). The first call for a key unwraps it.
func (s *Signer) SigningKey(ctx context.Context, alg string) (oidc.PublicKey, error) {
	if !slices.Contains(s.o.Algorithms, alg) {
		return oidc.PublicKey{}, fmt.Errorf("datakey signer: %w: %s", oidc.ErrNoSigningKey, alg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx, false); err != nil {
		return oidc.PublicKey{}, err
	}
	now := s.o.Now()
	k := s.active(alg, now)
	switch {
	case k == nil && s.o.SignOnly:
		return oidc.PublicKey{}, fmt.Errorf("datakey signer: %w: no %s key signs yet, and this function makes none", oidc.ErrUnavailable, alg)
	case s.o.SignOnly:
	case k == nil:
		// A new deployment (or an expired manifest, or a refused
		// signing key): make a key that signs at once for every
		// algorithm that has none, in one transaction, so that the
		// published set is complete from now on. A key another instance
		// made meanwhile (create reloads the set when it loses the race)
		// counts.
		var missing []string
		for _, a := range s.o.Algorithms {
			if s.active(a, now) == nil {
				missing = append(missing, a)
			}
		}
		if err := s.create(ctx, missing, true); err != nil {
			return oidc.PublicKey{}, err
		}
		if k = s.active(alg, s.o.Now()); k == nil {
			return oidc.PublicKey{}, fmt.Errorf("datakey signer: %w: no %s key signs yet", oidc.ErrUnavailable, alg)
		}
	case s.o.RotationPeriod > 0 && !now.Before(k.notBefore.Add(s.o.RotationPeriod)) && s.set.heads[alg] == k.pub.KeyID:
		if err := s.create(ctx, []string{alg}, false); err != nil {
			s.o.Logger.WarnContext(ctx, "oidc: signing key rotation failed; the current key keeps signing", "alg", alg, "error", err.Error())
		}
	case !now.Before(s.set.manifest.issuedAt.Add(manifestRenewAfter)):
		err := s.commit(ctx, nil, nil)
		if errors.Is(err, ErrLostRace) { // another instance renewed it
			err = s.refresh(ctx, true)
		}
		if err != nil {
			s.o.Logger.WarnContext(ctx, "oidc: signing key manifest renewal failed; retried at the next token", "error", err.Error())
		}
	}
	// A token must stay verifiable for its lifetime: the manifest that
	// publishes its key must outlive it.
	if m := s.set.manifest; m == nil || m.validUntil.Before(s.o.Now().Add(s.o.TokenLifetime)) {
		return oidc.PublicKey{}, fmt.Errorf("datakey signer: %w: the key manifest expires within the token lifetime and could not be renewed", oidc.ErrUnavailable)
	}
	if _, err := s.privateKey(ctx, k); err != nil {
		return oidc.PublicKey{}, err
	}
	return k.pub, nil
}

// Sign signs with the key kid names, which MUST sign now (or have signed
// within the last few seconds): RS256 (RSASSA-PKCS1-v1_5 SHA-256), PS256
// (RSASSA-PSS SHA-256, 32-byte salt, RFC 7518 §3.5) or ES256
// (the 64-byte R||S of RFC 7518 §3.4). No KMS call once the key is
// unwrapped.
func (s *Signer) Sign(ctx context.Context, kid string, signingInput []byte) ([]byte, error) {
	s.mu.Lock()
	if err := s.refresh(ctx, false); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	now := s.o.Now()
	i := slices.IndexFunc(s.set.keys, func(k *storedKey) bool { return k.pub.KeyID == kid })
	if i < 0 || (s.active(s.set.keys[i].pub.Algorithm, now) != s.set.keys[i] && s.active(s.set.keys[i].pub.Algorithm, now.Add(-signGrace)) != s.set.keys[i]) {
		s.mu.Unlock()
		return nil, fmt.Errorf("datakey signer: kid %q is not a signing key now", kid)
	}
	priv, err := s.privateKey(ctx, s.set.keys[i])
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	sig, err := oidc.SignWith(s.set.keys[i].pub.Algorithm, priv, signingInput)
	if err != nil {
		return nil, fmt.Errorf("datakey signer: %w", err)
	}
	return sig, nil
}

// PublicKeys returns every published key: the signing keys (RS256, then
// ES256), then the next keys (published, not yet signing), then the
// retired ones still within their tokens' lifetime. No KMS call.
func (s *Signer) PublicKeys(ctx context.Context) ([]oidc.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(ctx, false); err != nil {
		return nil, err
	}
	now := s.o.Now()
	var active, next, retired []oidc.PublicKey
	for _, alg := range oidc.SigningAlgorithms {
		if k := s.active(alg, now); k != nil {
			active = append(active, k.pub)
		}
	}
	for _, k := range s.set.keys {
		switch {
		case !k.live(now) || slices.Contains(active, k.pub):
		case now.Before(k.notBefore):
			next = append(next, k.pub)
		default:
			retired = append(retired, k.pub)
		}
	}
	return slices.Concat(active, next, retired), nil
}

// NextRotation is when the published set may next change: the next
// reload, a next key starting to sign or a retired key leaving.
func (s *Signer) NextRotation() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	if s.loadedAt.IsZero() {
		return now
	}
	next := s.loadedAt.Add(s.interval(now))
	for _, k := range s.set.keys {
		for _, t := range []time.Time{k.notBefore, k.expiry} {
			if t.After(now) && t.Before(next) {
				next = t
			}
		}
	}
	return next
}

// refresh reloads the set if it is older than RefreshInterval, or its
// manifest has expired (or force). A failed reload, or a set refused as a
// whole (ErrManifest, logged at ERROR), keeps a set younger than
// StaleLimit.
func (s *Signer) refresh(ctx context.Context, force bool) error {
	now := s.o.Now()
	if !force && !s.loadedAt.IsZero() && now.Before(s.loadedAt.Add(s.interval(now))) &&
		(s.set.manifest == nil || now.Before(s.set.manifest.validUntil)) {
		return nil
	}
	if !force && !s.failedAt.IsZero() && now.Before(s.failedAt.Add(emptyRetry)) {
		// A refused set is read again emptyRetry later, not at every
		// request (one Query, one VerifyMac and one ERROR line each).
		if !s.loadedAt.IsZero() && now.Before(s.loadedAt.Add(StaleLimit)) {
			return nil
		}
		return s.failure
	}
	raw, err := s.table.load(ctx)
	var set keySet
	if err == nil {
		set, err = s.trust(ctx, raw, now)
	}
	if err != nil {
		if errors.Is(err, ErrManifest) {
			s.o.Logger.ErrorContext(ctx, RefusedMessage, "table", s.o.Table, "error", err.Error())
			if s.o.OnRefused != nil {
				s.o.OnRefused(ctx)
			}
			err = fmt.Errorf("%w: %w", oidc.ErrUnavailable, err)
			s.failedAt, s.failure = now, err
		}
		if !s.loadedAt.IsZero() && now.Before(s.loadedAt.Add(StaleLimit)) {
			s.o.Logger.WarnContext(ctx, "oidc: signing key set reload failed; the cached set stays in use", "error", err.Error())
			return nil
		}
		return err
	}
	s.set, s.loadedAt, s.failedAt, s.failure = set, now, time.Time{}, nil
	for kid := range s.priv {
		if !slices.ContainsFunc(set.keys, func(k *storedKey) bool { return k.pub.KeyID == kid }) {
			delete(s.priv, kid)
		}
	}
	return nil
}

// interval is how long a loaded set is used before it is read again:
// RefreshInterval, or emptyRetry while some algorithm has no key yet (a
// new deployment, until its first signing call creates them).
func (s *Signer) interval(now time.Time) time.Duration {
	for _, alg := range s.o.Algorithms {
		if s.active(alg, now) == nil {
			return emptyRetry
		}
	}
	return RefreshInterval
}

// active is the key of alg that signs at t: the live key with the latest
// notBefore not after t.
func (s *Signer) active(alg string, t time.Time) *storedKey {
	var best *storedKey
	for _, k := range s.set.keys {
		if k.pub.Algorithm == alg && k.live(t) && !t.Before(k.notBefore) && (best == nil || k.notBefore.After(best.notBefore)) {
			best = k
		}
	}
	return best
}

// privateKey returns k's unwrapped private key, unwrapping it (one
// kms:Decrypt) the first time.
func (s *Signer) privateKey(ctx context.Context, k *storedKey) (crypto.Signer, error) {
	if p, ok := s.priv[k.pub.KeyID]; ok {
		return p, nil
	}
	p, err := unwrap(ctx, s.o.KMS, s.o.WrappingKey, k)
	if err != nil {
		return nil, err
	}
	s.priv[k.pub.KeyID] = p
	return p, nil
}
