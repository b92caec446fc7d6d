package oidc

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
)

// secretBytes is the entropy of every secret the provider hands out: codes,
// request handles, CSRF tokens, refresh tokens, session ids (256 bits, well
// above RFC 6749 §10.10's 2^-128 guessing bound).
const secretBytes = 32

// newSecret returns a fresh base64url secret read from r (crypto/rand).
func newSecret(r io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("oidc: reading randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret is the form in which a secret is stored and looked up: the
// base64url SHA-256 of its value. Secrets are 256-bit random values, so a
// plain hash (no salt, no stretching) is irreversible and lets a store find
// an item by key in one read.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// secretMatches reports in constant time whether secret hashes to hash.
func secretMatches(secret, hash string) bool {
	h := HashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(h), []byte(hash)) == 1
}
