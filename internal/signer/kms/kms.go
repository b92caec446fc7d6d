// Package kms signs JWTs with AWS KMS asymmetric keys (KeyUsage SIGN_VERIFY):
// the private keys never leave KMS, every function signs through kms:Sign and
// learns the public keys through kms:GetPublicKey. It owns the mapping from
// KMS key specs to JWS algorithms, the DER-to-JOSE conversion of ECDSA
// signatures, the per-container public key cache, and the translation of KMS
// failures into oidc.ErrUnavailable.
//
// The key list holds at most one active key per algorithm: the first RSA
// key signs RS256, the first ECC_NIST_P256 key signs ES256, the first key
// listed as PS256:<key> (an RSA key, another than the RS256 one) signs PS256
// with RSASSA_PSS_SHA_256; the others are published for verification only.
// Rotation is a configuration change of that list (docs/kms.md).
package kms

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// API is the part of *kms.Client the signer uses. Tests pass the real client
// pointed at moto_server or at an in-test handler.
type API interface {
	Sign(ctx context.Context, in *awskms.SignInput, optFns ...func(*awskms.Options)) (*awskms.SignOutput, error)
	GetPublicKey(ctx context.Context, in *awskms.GetPublicKeyInput, optFns ...func(*awskms.Options)) (*awskms.GetPublicKeyOutput, error)
}

var (
	_ API         = (*awskms.Client)(nil)
	_ oidc.Signer = (*Signer)(nil)
)

// MaxRawMessage is the largest message KMS signs with MessageType RAW.
// Larger signing inputs are hashed locally and sent as MessageType DIGEST.
const MaxRawMessage = 4096

// Signer signs with the first configured KMS key of each algorithm (RSA:
// RS256, ECC_NIST_P256: ES256, PS256:<RSA key>: PS256) and publishes all
// of them. It is safe for
// concurrent use; concurrent Sign calls run in parallel.
type Signer struct {
	client   API
	required []string     // the JWS algorithms that MUST have an active key
	log      *slog.Logger // where a missing key is reported once; nil: not reported
	slots    []*slot      // in configured order

	mu     sync.Mutex
	active map[string]*key // by JWS algorithm, once every key is fetched and checked
	err    error           // a final failure (ErrAlgorithmMismatch), then never changed
}

// slot caches one configured key for the container's lifetime.
type slot struct {
	id  string // as configured: key id, key ARN, alias name or alias ARN
	alg string // the JWS algorithm a PS256: (or RS256:, ES256:) prefix names; "": from the key spec

	mu       sync.Mutex
	key      *key   // set by the first successful fetch, then never changed
	inflight *fetch // the fetch concurrent first callers wait for
}

type fetch struct {
	done chan struct{}
	key  *key
	err  error
}

// key is what GetPublicKey told us about a KMS key.
type key struct {
	arn string // the key's own id as KMS returned it; Sign is pinned to it
	alg types.SigningAlgorithmSpec
	pub oidc.PublicKey
}

// New returns a signer for keyIDs: the first RSA key signs RS256, the first
// ECC_NIST_P256 key signs ES256, the first RSA key listed as PS256:<key>
// signs PS256, the others are published for verification only. Each may be
// a key id, key ARN, alias name (alias/NAME) or alias ARN, after an
// optional algorithm prefix (ParseKey). required are the JWS algorithms discovery advertises for ID tokens
// (signer.config.algorithm and the clients' idTokenSigningAlg): each MUST
// have a key in the list, or SigningKey, Sign and PublicKeys fail with
// ErrAlgorithmMismatch and no key is published; none: no check (tests).
// Without an ECC key, access tokens fall back to the ID token algorithm
// (the provider asks SigningKey for ES256 and gets oidc.ErrNoSigningKey).
//
// New does no network I/O, so that a cold start pays for KMS only when a
// request needs a key. The public halves are fetched on first need, all
// keys concurrently (one round trip), and kept for the container's
// lifetime; after that SigningKey and PublicKeys cost nothing and Sign
// costs one kms:Sign.
func New(client API, keyIDs []string, required ...string) (*Signer, error) {
	if client == nil {
		return nil, errors.New("kms signer: nil client")
	}
	if len(keyIDs) == 0 {
		return nil, errors.New("kms signer: no keys configured (the first key signs, the others are verification-only)")
	}
	for _, alg := range required {
		if !slices.Contains(oidc.SigningAlgorithms, alg) {
			return nil, fmt.Errorf("kms signer: unknown algorithm %q", alg)
		}
	}
	s := &Signer{client: client, required: required}
	for i, entry := range keyIDs {
		alg, id, err := ParseKey(entry)
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, fmt.Errorf("kms signer: key %d is empty", i+1)
		}
		if slices.ContainsFunc(s.slots, func(sl *slot) bool { return sl.id == id }) {
			return nil, fmt.Errorf("kms signer: key %q is listed twice", id)
		}
		s.slots = append(s.slots, &slot{id: id, alg: alg})
	}
	return s, nil
}

// SigningKey returns the public half of the active key of alg: the first
// configured key of that kind, or an error wrapping oidc.ErrNoSigningKey.
// The first call fetches every key from KMS (see New).
func (s *Signer) SigningKey(ctx context.Context, alg string) (oidc.PublicKey, error) {
	active, err := s.activeKeys(ctx)
	if err != nil {
		return oidc.PublicKey{}, err
	}
	k, ok := active[alg]
	if !ok {
		return oidc.PublicKey{}, fmt.Errorf("kms signer: %w: no %s key (%s) among the configured keys", oidc.ErrNoSigningKey, alg, keySpecs[alg])
	}
	return k.pub, nil
}

// PublicKeys returns every configured key, the active keys first (RS256,
// then ES256), then the others in configured order. It fails if any key
// cannot be fetched: a key set missing a key would make relying parties
// reject valid tokens.
func (s *Signer) PublicKeys(ctx context.Context) ([]oidc.PublicKey, error) {
	active, err := s.activeKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []oidc.PublicKey
	for _, alg := range oidc.SigningAlgorithms {
		if k, ok := active[alg]; ok {
			out = append(out, k.pub)
		}
	}
	for _, sl := range s.slots {
		if k := sl.cached(); !slices.ContainsFunc(out, func(p oidc.PublicKey) bool { return p.KeyID == k.pub.KeyID }) {
			out = append(out, k.pub)
		}
	}
	return out, nil
}

// keySpecs names the KMS key specs of each JWS algorithm, for messages.
var keySpecs = map[string]string{oidc.RS256: "RSA_2048, RSA_3072 or RSA_4096", oidc.ES256: "ECC_NIST_P256",
	oidc.PS256: "RSA_2048, RSA_3072 or RSA_4096 listed as PS256:<key>"}

// ParseKey splits a configured key into its algorithm prefix and the key id,
// ARN or alias: "PS256:alias/oidc-ps" is the PS256 key alias/oidc-ps (KMS
// cannot tell which JWS algorithm an RSA key is for: one key per
// algorithm, so the PS256 key is another RSA key than the RS256 one).
// Without a prefix the key spec decides (RSA: RS256, ECC_NIST_P256: ES256).
// No key id, ARN ("arn:…") or alias ("alias/…") starts with an algorithm
// name and a colon.
func ParseKey(entry string) (alg, id string, err error) {
	prefix, rest, ok := strings.Cut(entry, ":")
	if !ok || strings.HasPrefix(entry, "arn:") || strings.HasPrefix(entry, "alias/") {
		return "", entry, nil
	}
	if !slices.Contains(oidc.SigningAlgorithms, prefix) {
		return "", "", fmt.Errorf("kms signer: key %q: unknown algorithm prefix %q (want %s, or none)", entry, prefix, strings.Join(oidc.SigningAlgorithms, ", "))
	}
	return prefix, rest, nil
}

// activeKeys fetches every configured key (those not yet cached
// concurrently, so a cold container pays one round trip, not one per key)
// and picks the first of each kind. The choice is made once per container;
// a failed fetch is not remembered, but a missing required algorithm is
// (ErrAlgorithmMismatch), and logged once.
func (s *Signer) activeKeys(ctx context.Context) (map[string]*key, error) {
	s.mu.Lock()
	if s.active != nil || s.err != nil {
		defer s.mu.Unlock()
		return s.active, s.err
	}
	s.mu.Unlock()

	keys := make([]*key, len(s.slots))
	errs := make([]error, len(s.slots))
	var wg sync.WaitGroup
	for i, sl := range s.slots {
		if k := sl.cached(); k != nil {
			keys[i] = k
			continue
		}
		wg.Go(func() { keys[i], errs[i] = s.key(ctx, sl) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	active := map[string]*key{}
	for i, k := range keys {
		for j := range i {
			if keys[j].pub.KeyID == k.pub.KeyID {
				return nil, fmt.Errorf("kms signer: %q and %q name the same KMS key (kid %s); list each key once", s.slots[j].id, s.slots[i].id, k.pub.KeyID)
			}
		}
		if _, ok := active[k.pub.Algorithm]; !ok {
			active[k.pub.Algorithm] = k
		}
	}
	var missing error
	for _, alg := range s.required {
		if _, ok := active[alg]; !ok {
			missing = s.mismatch(alg, keys)
			break
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active != nil || s.err != nil {
		return s.active, s.err // another caller decided first
	}
	switch {
	case missing != nil:
		s.err = missing
		if s.log != nil {
			s.log.ErrorContext(ctx, missing.Error())
		}
	default:
		s.active = active
		if _, ok := active[oidc.ES256]; !ok && s.log != nil {
			fallback := oidc.RS256
			if len(s.required) > 0 {
				fallback = s.required[0]
			}
			s.log.InfoContext(ctx, "oidc: no ECC_NIST_P256 key among the KMS keys: access tokens are signed with "+fallback+" (add an ECC_NIST_P256 key to the list for ES256 access tokens: one RSA signature per response, docs/kms.md)")
		}
	}
	return s.active, s.err
}

// Sign signs signingInput with the active key that kid MUST name. Inputs up to 4096 bytes go to KMS as MessageType RAW; longer ones
// are hashed here with SHA-256 and sent as MessageType DIGEST (KMS's limit
// for RAW). ES256 signatures come back from KMS as ASN.1 DER and are returned
// as the 64-byte R||S of RFC 7518 §3.4.
//
// The signature is verified against the published key before it is
// returned: a token relying parties cannot verify must never be issued, and
// the check costs microseconds against a KMS round trip of milliseconds.
//
// KMS failures that are not the caller's fault (throttling, outages, a
// disabled or missing key, timeouts, network errors) are returned wrapping
// oidc.ErrUnavailable, with the KMS error code in the message: the core
// answers temporarily_unavailable and logs the text.
func (s *Signer) Sign(ctx context.Context, kid string, signingInput []byte) ([]byte, error) {
	active, err := s.activeKeys(ctx)
	if err != nil {
		return nil, err
	}
	var k *key
	for _, a := range active {
		if a.pub.KeyID == kid {
			k = a
		}
	}
	if k == nil {
		return nil, fmt.Errorf("kms signer: kid %q is not an active signing key", kid)
	}
	digest := sha256.Sum256(signingInput)
	in := &awskms.SignInput{
		// The ARN from GetPublicKey, not the configured alias: if the alias
		// is moved to another key, this container keeps signing with the key
		// whose kid it announces.
		KeyId:            aws.String(k.arn),
		SigningAlgorithm: k.alg,
		Message:          signingInput,
		MessageType:      types.MessageTypeRaw,
	}
	if len(signingInput) > MaxRawMessage {
		in.Message, in.MessageType = digest[:], types.MessageTypeDigest
	}
	out, err := s.client.Sign(ctx, in)
	if err != nil {
		return nil, classify("Sign", k.arn, err)
	}
	sig := out.Signature
	if k.pub.Algorithm == oidc.ES256 {
		if sig, err = joseES256(sig); err != nil {
			return nil, fmt.Errorf("kms signer: Sign %s: %w", k.arn, err)
		}
	} else if pub, ok := k.pub.Key.(*rsa.PublicKey); ok && len(sig) != pub.Size() {
		return nil, fmt.Errorf("kms signer: Sign %s: RSA signature is %d bytes; want %d", k.arn, len(sig), pub.Size())
	}
	// PS256: KMS's RSASSA_PSS_SHA_256 uses a 256-bit salt, the 32 bytes
	// RFC 7518 §3.5 asks; VerifySignature accepts no other length.
	if err := oidc.VerifySignature(k.pub, signingInput, sig); err != nil {
		return nil, fmt.Errorf("kms signer: Sign %s (%s, %s): the signature does not verify with the published key: %w", k.arn, in.MessageType, k.alg, err)
	}
	return sig, nil
}
