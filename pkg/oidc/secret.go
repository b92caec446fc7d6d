package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
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

// Sealing under a secret: what the provider must keep for a later step
// without being able to use it from the table alone (a refresh token's
// successor, a connector's upstream refresh token, a pending login's
// handle) is encrypted with AES-256-GCM under a key derived (HKDF-SHA256)
// from the secret the next step's presenter holds (a token, a code, a
// cookie, a state) and never stored. A leaked table yields nothing usable.

var errSealed = errors.New("oidc: sealed data does not open")

// sealAEAD is the cipher of secret for purpose.
func sealAEAD(secret, purpose string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, purpose, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealUnder encrypts plain so that only the holder of secret can read it:
// nonce || ciphertext. Empty plain seals to nil.
func sealUnder(r io.Reader, secret, purpose string, plain []byte) ([]byte, error) {
	if len(plain) == 0 {
		return nil, nil
	}
	aead, err := sealAEAD(secret, purpose)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, fmt.Errorf("oidc: reading randomness: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, nil), nil
}

// openUnder decrypts what sealUnder sealed under secret for purpose; nil
// opens to nil.
func openUnder(secret, purpose string, box []byte) ([]byte, error) {
	if len(box) == 0 {
		return nil, nil
	}
	aead, err := sealAEAD(secret, purpose)
	if err != nil {
		return nil, err
	}
	if len(box) < aead.NonceSize() {
		return nil, errSealed
	}
	plain, err := aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], nil)
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}
