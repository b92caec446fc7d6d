// Package local is the embedded default signer: private keys held in
// process memory (an RSA key for RS256 ID tokens, a P-256 key for ES256
// access tokens), generated at start or read from PEM files. It is meant for
// `make run` and tests; in AWS the keys live in KMS (package kms).
package local

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Signer signs with in-memory private keys, one per algorithm (an
// RSA key for RS256, a P-256 key for ES256, another RSA key for PS256).
type Signer struct {
	keys []entry // RS256 first
}

type entry struct {
	key crypto.Signer
	pub oidc.PublicKey
}

var _ oidc.Signer = (*Signer)(nil)

// New wraps RSA (2048 bits or more) and ECDSA P-256 private keys, at most
// one of each algorithm: an RSA key signs RS256, a P-256 key ES256 (see
// NewKeys for PS256).
func New(keys ...crypto.Signer) (*Signer, error) {
	byAlg := map[string]crypto.Signer{}
	for _, key := range keys {
		pub, err := oidc.NewPublicKey(key.Public())
		if err != nil {
			return nil, err
		}
		if byAlg[pub.Algorithm] != nil {
			return nil, fmt.Errorf("local signer: two %s keys (one per algorithm)", pub.Algorithm)
		}
		byAlg[pub.Algorithm] = key
	}
	return NewKeys(byAlg)
}

// NewKeys wraps one private key per JWS algorithm (oidc.SigningAlgorithms):
// RSA keys of 2048 bits or more for RS256 and PS256, which MUST be two
// distinct keys (a JWK names one alg), and a P-256 key for ES256.
func NewKeys(keys map[string]crypto.Signer) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("local signer: no key")
	}
	s := &Signer{}
	for _, alg := range oidc.SigningAlgorithms {
		key := keys[alg]
		if key == nil {
			continue
		}
		pub, err := oidc.NewPublicKeyFor(alg, key.Public())
		if err != nil {
			return nil, fmt.Errorf("local signer: %s key: %w", alg, err)
		}
		if s.has(pub.KeyID) {
			return nil, fmt.Errorf("local signer: the %s key is also another algorithm's: one key per algorithm", alg)
		}
		s.keys = append(s.keys, entry{key: key, pub: pub})
	}
	if len(s.keys) != len(keys) {
		return nil, fmt.Errorf("local signer: unsupported algorithm among %v (want %s)", slices.Sorted(maps.Keys(keys)), strings.Join(oidc.SigningAlgorithms, ", "))
	}
	return s, nil
}

// DefaultAlgorithms are the keys Generate makes when asked for none: RS256
// for ID tokens (OpenID Connect Core §15.1) and ES256 for access tokens.
var DefaultAlgorithms = []string{oidc.RS256, oidc.ES256}

// Generate creates a fresh key for each algorithm: RS256 or PS256
// (RSA-2048, one key each) or ES256 (P-256); "" is RS256. Without
// algorithms, DefaultAlgorithms.
func Generate(algorithms ...string) (*Signer, error) {
	if len(algorithms) == 0 {
		algorithms = DefaultAlgorithms
	}
	keys := make(map[string]crypto.Signer, len(algorithms))
	for _, algorithm := range algorithms {
		var (
			key crypto.Signer
			err error
		)
		algorithm = cmp.Or(algorithm, oidc.RS256)
		switch algorithm {
		case oidc.RS256, oidc.PS256:
			key, err = rsa.GenerateKey(rand.Reader, 2048)
		case oidc.ES256:
			key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		default:
			return nil, fmt.Errorf("local signer: unsupported algorithm %q (want %s)", algorithm, strings.Join(oidc.SigningAlgorithms, ", "))
		}
		if err != nil {
			return nil, fmt.Errorf("local signer: %w", err)
		}
		keys[algorithm] = key
	}
	return NewKeys(keys)
}

// LoadPEM reads a PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) private key from path.
func LoadPEM(path string) (*Signer, error) {
	key, err := loadKey(path)
	if err != nil {
		return nil, err
	}
	return New(key)
}

// loadKey reads a PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) private key from path
// and checks that the provider can sign with it.
func loadKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("local signer: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("local signer: %s: no PEM block", path)
	}
	var parsed any
	switch block.Type {
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("local signer: %s: %w", path, err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("local signer: %s: not a signing key", path)
	}
	if _, err := oidc.NewPublicKey(key.Public()); err != nil {
		return nil, fmt.Errorf("local signer: %s: %w", path, err)
	}
	return key, nil
}

// SigningKey returns the public half of the key of alg, or an error
// wrapping oidc.ErrNoSigningKey.
func (s *Signer) SigningKey(_ context.Context, alg string) (oidc.PublicKey, error) {
	for _, e := range s.keys {
		if e.pub.Algorithm == alg {
			return e.pub, nil
		}
	}
	return oidc.PublicKey{}, fmt.Errorf("local signer: %w: %s", oidc.ErrNoSigningKey, alg)
}

// PublicKeys returns the keys, RS256 first.
func (s *Signer) PublicKeys(context.Context) ([]oidc.PublicKey, error) {
	out := make([]oidc.PublicKey, len(s.keys))
	for i, e := range s.keys {
		out[i] = e.pub
	}
	return out, nil
}

// Sign signs with the key named by kid: RSASSA-PKCS1-v1_5 SHA-256 (RS256),
// RSASSA-PSS SHA-256 with a 32-byte salt (PS256, RFC 7518 §3.5) or ECDSA
// P-256 SHA-256 (ES256, returned as the fixed-width R||S of RFC 7518 §3.4).
func (s *Signer) Sign(_ context.Context, kid string, signingInput []byte) ([]byte, error) {
	i := slices.IndexFunc(s.keys, func(e entry) bool { return e.pub.KeyID == kid })
	if i < 0 {
		return nil, errors.New("local signer: unknown key id")
	}
	sig, err := oidc.SignWith(s.keys[i].pub.Algorithm, s.keys[i].key, signingInput)
	if err != nil {
		return nil, fmt.Errorf("local signer: %w", err)
	}
	return sig, nil
}

// Algorithms are the JWS algorithms of the keys, RS256 first.
func (s *Signer) Algorithms() []string {
	out := make([]string, len(s.keys))
	for i, e := range s.keys {
		out[i] = e.pub.Algorithm
	}
	return out
}

// has reports whether kid names one of the keys.
func (s *Signer) has(kid string) bool {
	return slices.ContainsFunc(s.keys, func(e entry) bool { return e.pub.KeyID == kid })
}
