package oidctest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// LargeSigningInput is the size above which a signing input no longer fits a
// single KMS Sign request (4096 bytes); TestSigner signs one larger than that.
const LargeSigningInput = 4096

// SignerOption adjusts TestSigner to a documented limit of an emulated
// backend. There is deliberately no option to leave out anything but the
// large-input case.
type SignerOption func(*signerSuite)

type signerSuite struct {
	withoutLargeInput string
	algorithms        []string // the signer MUST have these; none: whichever it has
}

// WithAlgorithms makes the suite require an active key of each of algs
// (and run every check for each); without it the suite checks the
// algorithms the signer has, at least one.
func WithAlgorithms(algs ...string) SignerOption {
	return func(s *signerSuite) { s.algorithms = algs }
}

// WithoutLargeInput leaves out the case of a signing input larger than 4096
// bytes, for an emulator that cannot sign it correctly (moto double-hashes
// KMS MessageType=DIGEST). The reason is logged; the caller MUST cover that
// path with another test.
func WithoutLargeInput(reason string) SignerOption {
	return func(s *signerSuite) { s.withoutLargeInput = reason }
}

// signerCheck is one clause of the signer contract. Checks return errors
// rather than failing a *testing.T so that the suite itself can be tested
// against deliberately broken signers.
type signerCheck struct {
	name  string
	large bool // the >4096-byte case; see WithoutLargeInput
	check func(ctx context.Context, s oidc.Signer, alg string) error
}

var signerChecks = []signerCheck{
	{name: "KeyIDIsThumbprint", check: checkSigningKey},
	{name: "PublicKeysStartWithSigningKey", check: checkPublicKeys},
	{name: "SignatureVerifies", check: checkSignVerifies},
	{name: "UnknownKeyIDFails", check: checkUnknownKid},
	{name: "ConcurrentSign", check: checkConcurrentSign},
	{name: "LargeSigningInput", large: true, check: checkLargeInput},
}

// TestSigner is the contract every oidc.Signer MUST pass:
//
//   - for each algorithm (RS256, ES256, PS256) SigningKey returns the active key of
//     that algorithm or an error wrapping oidc.ErrNoSigningKey, and the
//     signer has at least one (every one WithAlgorithms names); each check
//     below runs for each algorithm the signer has;
//   - SigningKey's kid is the RFC 7638 JWK thumbprint of its key, computed
//     here independently (go-jose), and its JWK is a public key of the
//     declared algorithm (RS256, PS256: RSA ≥ 2048 bits; ES256: P-256);
//   - PublicKeys lists the active keys first (in the order of
//     oidc.SigningAlgorithms), with unique kids (so the RS256 and PS256
//     keys are distinct keys);
//   - a signature over a JWT signing input verifies with golang-jwt against
//     the published key (ES256: exactly 64 bytes R||S, RFC 7518 §3.4;
//     PS256: also with crypto/rsa and a salt of exactly 32 bytes, RFC 7518
//     §3.5), and a tampered token does not;
//   - Sign with an unknown or verification-only kid fails;
//   - 20 concurrent Sign calls all produce valid signatures;
//   - a signing input larger than 4096 bytes signs and verifies (the KMS
//     DIGEST path), unless WithoutLargeInput says why not.
func TestSigner(t *testing.T, s oidc.Signer, opts ...SignerOption) {
	t.Helper()
	var suite signerSuite
	for _, opt := range opts {
		opt(&suite)
	}
	algs, err := activeAlgorithms(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range suite.algorithms {
		if !slices.Contains(algs, want) {
			t.Fatalf("the signer has active keys for %v; want one for %s", algs, want)
		}
	}
	for _, alg := range algs {
		for _, c := range signerChecks {
			if c.large && suite.withoutLargeInput != "" {
				t.Logf("%s: case %s/%s not run: %s", t.Name(), alg, c.name, suite.withoutLargeInput)
				continue
			}
			t.Run(alg+"/"+c.name, func(t *testing.T) {
				if err := c.check(t.Context(), s, alg); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// activeAlgorithms asks the signer for a key of each algorithm: it has one,
// or says oidc.ErrNoSigningKey; an unknown algorithm has none either.
func activeAlgorithms(ctx context.Context, s oidc.Signer) ([]string, error) {
	var algs []string
	for _, alg := range oidc.SigningAlgorithms {
		pk, err := s.SigningKey(ctx, alg)
		switch {
		case errors.Is(err, oidc.ErrNoSigningKey):
			continue
		case err != nil:
			return nil, fmt.Errorf("SigningKey(%s): %w", alg, err)
		case pk.Algorithm != alg:
			return nil, fmt.Errorf("SigningKey(%s) is a key of %s", alg, pk.Algorithm)
		}
		algs = append(algs, alg)
	}
	if len(algs) == 0 {
		return nil, errors.New("the signer has no active key of any algorithm")
	}
	if _, err := s.SigningKey(ctx, "HS256"); !errors.Is(err, oidc.ErrNoSigningKey) {
		return nil, fmt.Errorf("SigningKey(HS256): %v; want oidc.ErrNoSigningKey", err)
	}
	return algs, nil
}

// checkActiveKeysFirst: PublicKeys starts with the active keys, in the
// order of algs (RS256 first).
func checkActiveKeysFirst(ctx context.Context, s oidc.Signer, algs []string) error {
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		return fmt.Errorf("PublicKeys: %w", err)
	}
	if len(keys) < len(algs) {
		return fmt.Errorf("PublicKeys has %d keys; want at least the %d active ones", len(keys), len(algs))
	}
	for i, alg := range algs {
		pk, err := s.SigningKey(ctx, alg)
		if err != nil {
			return fmt.Errorf("SigningKey(%s): %w", alg, err)
		}
		if !samePublicKey(keys[i], pk) {
			return fmt.Errorf("PublicKeys[%d] is %s; want the active %s key %s", i, keys[i].KeyID, alg, pk.KeyID)
		}
	}
	return nil
}

// checkKeyShape checks one published key against an independent JOSE
// implementation: declared algorithm matches the key, the kid is the RFC 7638
// thumbprint, and the JWK round-trips to the same public key with no private
// members.
func checkKeyShape(pk oidc.PublicKey) error {
	switch k := pk.Key.(type) {
	case *rsa.PublicKey:
		if pk.Algorithm != oidc.RS256 && pk.Algorithm != oidc.PS256 {
			return fmt.Errorf("RSA key %s: algorithm %q; want RS256 or PS256", pk.KeyID, pk.Algorithm)
		}
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key %s: %d bits; want at least 2048", pk.KeyID, k.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if pk.Algorithm != oidc.ES256 {
			return fmt.Errorf("EC key %s: algorithm %q; want ES256", pk.KeyID, pk.Algorithm)
		}
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("EC key %s: curve %s; want P-256", pk.KeyID, k.Curve.Params().Name)
		}
	default:
		return fmt.Errorf("key %s: type %T; want *rsa.PublicKey or *ecdsa.PublicKey", pk.KeyID, pk.Key)
	}

	ref := jose.JSONWebKey{Key: pk.Key}
	tp, err := ref.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("key %s: go-jose thumbprint: %w", pk.KeyID, err)
	}
	if want := base64.RawURLEncoding.EncodeToString(tp); pk.KeyID != want {
		return fmt.Errorf("kid %q; want RFC 7638 thumbprint %q", pk.KeyID, want)
	}

	jwk, err := pk.JWK()
	if err != nil {
		return fmt.Errorf("key %s: JWK: %w", pk.KeyID, err)
	}
	raw, err := json.Marshal(jwk)
	if err != nil {
		return fmt.Errorf("key %s: marshal JWK: %w", pk.KeyID, err)
	}
	var parsed jose.JSONWebKey
	if err := parsed.UnmarshalJSON(raw); err != nil {
		return fmt.Errorf("key %s: go-jose cannot read JWK %s: %w", pk.KeyID, raw, err)
	}
	if !parsed.IsPublic() || !parsed.Valid() {
		return fmt.Errorf("key %s: JWK %s is not a valid public key", pk.KeyID, raw)
	}
	if parsed.KeyID != pk.KeyID || parsed.Algorithm != pk.Algorithm || parsed.Use != "sig" {
		return fmt.Errorf("JWK kid/alg/use = %q/%q/%q; want %q/%q/sig", parsed.KeyID, parsed.Algorithm, parsed.Use, pk.KeyID, pk.Algorithm)
	}
	if eq, ok := pk.Key.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(parsed.Key) {
		return fmt.Errorf("key %s: JWK %s does not decode to the published key", pk.KeyID, raw)
	}
	return nil
}

func samePublicKey(a, b oidc.PublicKey) bool {
	eq, ok := a.Key.(interface{ Equal(crypto.PublicKey) bool })
	return a.KeyID == b.KeyID && a.Algorithm == b.Algorithm && ok && eq.Equal(b.Key)
}

func checkSigningKey(ctx context.Context, s oidc.Signer, alg string) error {
	pk, err := s.SigningKey(ctx, alg)
	if err != nil {
		return fmt.Errorf("SigningKey: %w", err)
	}
	if err := checkKeyShape(pk); err != nil {
		return err
	}
	again, err := s.SigningKey(ctx, alg)
	if err != nil {
		return fmt.Errorf("second SigningKey: %w", err)
	}
	if !samePublicKey(pk, again) {
		return fmt.Errorf("SigningKey changed between calls: %s then %s", pk.KeyID, again.KeyID)
	}
	return nil
}

func checkPublicKeys(ctx context.Context, s oidc.Signer, alg string) error {
	pk, err := s.SigningKey(ctx, alg)
	if err != nil {
		return fmt.Errorf("SigningKey: %w", err)
	}
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		return fmt.Errorf("PublicKeys: %w", err)
	}
	if len(keys) == 0 {
		return errors.New("PublicKeys is empty")
	}
	if !slices.ContainsFunc(keys, func(k oidc.PublicKey) bool { return samePublicKey(k, pk) }) {
		return fmt.Errorf("PublicKeys lacks the signing key %s", pk.KeyID)
	}
	algs, err := activeAlgorithms(ctx, s)
	if err != nil {
		return err
	}
	if err := checkActiveKeysFirst(ctx, s, algs); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, k := range keys {
		if seen[k.KeyID] {
			return fmt.Errorf("PublicKeys[%d]: duplicate kid %s", i, k.KeyID)
		}
		seen[k.KeyID] = true
		if err := checkKeyShape(k); err != nil {
			return fmt.Errorf("PublicKeys[%d]: %w", i, err)
		}
	}
	return nil
}

// signAndVerify signs claims, checks the raw signature's size, verifies the
// token with golang-jwt against the published keys and returns it.
func signAndVerify(ctx context.Context, s oidc.Signer, alg string, claims jwt.MapClaims) (string, error) {
	pk, err := s.SigningKey(ctx, alg)
	if err != nil {
		return "", fmt.Errorf("SigningKey: %w", err)
	}
	token, err := SignJWTAlg(ctx, s, alg, claims)
	if err != nil {
		return "", fmt.Errorf("Sign: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[strings.LastIndexByte(token, '.')+1:])
	if err != nil {
		return "", err
	}
	switch k := pk.Key.(type) {
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			return "", fmt.Errorf("ES256 signature is %d bytes; want 64 (R||S, RFC 7518 §3.4, not DER)", len(sig))
		}
	case *rsa.PublicKey:
		if len(sig) != k.Size() {
			return "", fmt.Errorf("%s signature is %d bytes; want %d", alg, len(sig), k.Size())
		}
	}
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		return "", fmt.Errorf("PublicKeys: %w", err)
	}
	got, err := verifyJWT(token, keys)
	if err != nil {
		return "", fmt.Errorf("golang-jwt rejects the signature: %w", err)
	}
	if got["sub"] != claims["sub"] {
		return "", fmt.Errorf("verified sub %v; want %v", got["sub"], claims["sub"])
	}
	return token, nil
}

func checkSignVerifies(ctx context.Context, s oidc.Signer, alg string) error {
	token, err := signAndVerify(ctx, s, alg, testClaims("alice", 0))
	if err != nil {
		return err
	}
	// The verification above must be able to fail: change one claim.
	parts := strings.Split(token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte("alice"), []byte("mallo"), 1)) + "." + parts[2]
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		return fmt.Errorf("PublicKeys: %w", err)
	}
	if _, err := verifyJWT(forged, keys); err == nil {
		return errors.New("a token with a changed payload still verifies")
	}
	return nil
}

func checkUnknownKid(ctx context.Context, s oidc.Signer, alg string) error {
	pk, err := s.SigningKey(ctx, alg)
	if err != nil {
		return fmt.Errorf("SigningKey: %w", err)
	}
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		return fmt.Errorf("PublicKeys: %w", err)
	}
	algs, err := activeAlgorithms(ctx, s)
	if err != nil {
		return err
	}
	bad := []string{"", "unknown-kid", pk.KeyID + "x"}
	for _, k := range keys[len(algs):] {
		bad = append(bad, k.KeyID) // verification-only keys MUST NOT sign
	}
	for _, kid := range bad {
		if _, err := s.Sign(ctx, kid, []byte("e30.e30")); err == nil {
			return fmt.Errorf("Sign with kid %q succeeded; want an error (only %s signs)", kid, pk.KeyID)
		}
	}
	return nil
}

func checkConcurrentSign(ctx context.Context, s oidc.Signer, alg string) error {
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = signAndVerify(ctx, s, alg, testClaims(fmt.Sprintf("user-%d", i), i))
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func checkLargeInput(ctx context.Context, s oidc.Signer, alg string) error {
	token, err := signAndVerify(ctx, s, alg, testClaims("bob", 2*LargeSigningInput))
	if err != nil {
		return err
	}
	if n := strings.LastIndexByte(token, '.'); n <= LargeSigningInput {
		return fmt.Errorf("signing input is %d bytes; want more than %d", n, LargeSigningInput)
	}
	return nil
}
