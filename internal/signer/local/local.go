// Package local is the embedded default signer: one private key held in
// process memory, generated at start or read from a PEM file. It is meant for
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

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Signer signs with one in-memory private key.
type Signer struct {
	key crypto.Signer
	pub oidc.PublicKey
}

var _ oidc.Signer = (*Signer)(nil)

// New wraps an RSA (2048 bits or more) or ECDSA P-256 private key.
func New(key crypto.Signer) (*Signer, error) {
	pub, err := oidc.NewPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, pub: pub}, nil
}

// Generate creates a fresh key for algorithm RS256 (RSA-2048) or ES256 (P-256).
func Generate(algorithm string) (*Signer, error) {
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
	return New(key)
}

// LoadPEM reads a PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) private key from path.
func LoadPEM(path string) (*Signer, error) {
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
	s, err := New(key)
	if err != nil {
		return nil, fmt.Errorf("local signer: %s: %w", path, err)
	}
	return s, nil
}

// SigningKey returns the public half of the key.
func (s *Signer) SigningKey(context.Context) (oidc.PublicKey, error) { return s.pub, nil }

// PublicKeys returns the one key.
func (s *Signer) PublicKeys(context.Context) ([]oidc.PublicKey, error) {
	return []oidc.PublicKey{s.pub}, nil
}

// Sign signs with RSASSA-PKCS1-v1_5 SHA-256 (RS256) or ECDSA P-256 SHA-256
// (ES256, returned as the fixed-width R||S of RFC 7518 §3.4).
func (s *Signer) Sign(_ context.Context, kid string, signingInput []byte) ([]byte, error) {
	if kid != s.pub.KeyID {
		return nil, errors.New("local signer: unknown key id")
	}
	digest := sha256.Sum256(signingInput)
	switch key := s.key.(type) {
	case *ecdsa.PrivateKey:
		r, ss, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			return nil, fmt.Errorf("local signer: %w", err)
		}
		return fixedRS(r, ss), nil
	default:
		sig, err := s.key.Sign(rand.Reader, digest[:], crypto.SHA256)
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

// Algorithm is the JWS algorithm of the key (RS256 or ES256).
func (s *Signer) Algorithm() string { return s.pub.Algorithm }
