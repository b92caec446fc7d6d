// Package local is the embedded default signer: private keys held in
// process memory (an RSA key for RS256 ID tokens, a P-256 key for ES256
// access tokens), generated at start or read from PEM files. It is meant for
// `make run` and tests; in AWS the keys live in KMS (package kms).
package local

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Signer signs with in-memory private keys, one per algorithm (an
// RSA key for RS256, a P-256 key for ES256).
type Signer struct {
	keys []entry // RS256 first
}

type entry struct {
	key crypto.Signer
	pub oidc.PublicKey
}

var _ oidc.Signer = (*Signer)(nil)

// New wraps RSA (2048 bits or more) and ECDSA P-256 private keys, at most
// one of each algorithm.
func New(keys ...crypto.Signer) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("local signer: no key")
	}
	s := &Signer{}
	for _, key := range keys {
		pub, err := oidc.NewPublicKey(key.Public())
		if err != nil {
			return nil, err
		}
		if slices.Contains(s.Algorithms(), pub.Algorithm) {
			return nil, fmt.Errorf("local signer: two %s keys (one per algorithm)", pub.Algorithm)
		}
		s.keys = append(s.keys, entry{key: key, pub: pub})
	}
	slices.SortStableFunc(s.keys, func(a, b entry) int {
		return slices.Index(oidc.SigningAlgorithms, a.pub.Algorithm) - slices.Index(oidc.SigningAlgorithms, b.pub.Algorithm)
	})
	return s, nil
}

// Generate creates a fresh key for each algorithm: RS256 (RSA-2048) or
// ES256 (P-256); "" is RS256. Without algorithms, one of each.
func Generate(algorithms ...string) (*Signer, error) {
	if len(algorithms) == 0 {
		algorithms = oidc.SigningAlgorithms
	}
	keys := make([]crypto.Signer, 0, len(algorithms))
	for _, algorithm := range algorithms {
		var (
			key crypto.Signer
			err error
		)
		switch algorithm {
		case "", oidc.RS256:
			key, err = rsa.GenerateKey(rand.Reader, 2048)
		case oidc.ES256:
			key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		default:
			return nil, fmt.Errorf("local signer: unsupported algorithm %q (want RS256 or ES256)", algorithm)
		}
		if err != nil {
			return nil, fmt.Errorf("local signer: %w", err)
		}
		keys = append(keys, key)
	}
	return New(keys...)
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

// Sign signs with the key named by kid: RSASSA-PKCS1-v1_5 SHA-256 (RS256)
// or ECDSA P-256 SHA-256 (ES256, returned as the fixed-width R||S of
// RFC 7518 §3.4).
func (s *Signer) Sign(_ context.Context, kid string, signingInput []byte) ([]byte, error) {
	i := slices.IndexFunc(s.keys, func(e entry) bool { return e.pub.KeyID == kid })
	if i < 0 {
		return nil, errors.New("local signer: unknown key id")
	}
	digest := sha256.Sum256(signingInput)
	switch key := s.keys[i].key.(type) {
	case *ecdsa.PrivateKey:
		r, ss, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			return nil, fmt.Errorf("local signer: %w", err)
		}
		return fixedRS(r, ss), nil
	default:
		sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("local signer: %w", err)
		}
		return sig, nil
	}
}

func fixedRS(r, s *big.Int) []byte {
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
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
