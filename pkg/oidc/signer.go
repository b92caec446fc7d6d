package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// JWS algorithms the provider signs with (RFC 7518 §3.1). RS256 is
// mandatory for OpenID Providers (OpenID Connect Core §15.1); ES256 gives
// smaller, cheaper tokens; PS256 (RSASSA-PSS, RFC 7518 §3.5) is what FAPI
// profiles ask of RSA keys.
const (
	RS256 = "RS256"
	ES256 = "ES256"
	PS256 = "PS256"
)

// SigningAlgorithms lists the JWS algorithms a signer may use, RS256
// first, in the order signers publish their active keys: the values
// signer.config.algorithm and a client's idTokenSigningAlg or
// userInfoSigningAlg may name. A signer holds one key per algorithm (a
// JWK names one alg), so the RS256 and PS256 keys are distinct RSA keys.
var SigningAlgorithms = []string{RS256, ES256, PS256}

// ErrNoSigningKey is returned (wrapped) by Signer.SigningKey when the signer
// has no active key of the algorithm asked for. The provider then signs
// access tokens with the ID token algorithm instead of ES256.
var ErrNoSigningKey = errors.New("oidc: the signer has no key of this algorithm")

// Signer signs JWTs with one active key per algorithm and publishes the key
// set.
//
// The provider signs access tokens with the ES256 key when there is one, and
// ID tokens with the algorithm of the client (RS256 by default, OpenID
// Connect Core §15.1), so that a response needs at most one RSA signature.
//
// Implementations: local in-process keys (the embedded default) and AWS KMS.
// Both MUST pass oidctest.TestSigner.
type Signer interface {
	// SigningKey returns the public half of the active key of algorithm
	// alg (one of SigningAlgorithms), or an error wrapping ErrNoSigningKey when the
	// signer has none. Its KeyID and Algorithm go into the JWS header
	// before Sign is called.
	SigningKey(ctx context.Context, alg string) (PublicKey, error)

	// Sign returns the JWS signature (RFC 7515 §5.1) of signingInput made with
	// the active key named by kid, which MUST be an active key (never a
	// verification-only one); for ES256 that is the 64-byte R||S form of
	// RFC 7518 §3.4, never ASN.1 DER; for PS256 RSASSA-PSS with a 32-byte
	// salt (RFC 7518 §3.5). Safe for concurrent use.
	Sign(ctx context.Context, kid string, signingInput []byte) ([]byte, error)

	// PublicKeys returns every key relying parties may see signatures from:
	// the active keys first (in the order of SigningAlgorithms), then verification-only
	// keys (rotation).
	PublicKeys(ctx context.Context) ([]PublicKey, error)
}

// Rotator is a Signer whose published key set changes by itself over time
// (the local signer's keysRotationPeriod). The provider reloads the key set
// it publishes and verifies with at NextRotation; a signer without it is
// read once per process.
type Rotator interface {
	Signer
	// NextRotation is when PublicKeys will next return another set.
	NextRotation() time.Time
}

// PublicKey is a published verification key.
type PublicKey struct {
	KeyID     string           // RFC 7638 JWK thumbprint, base64url
	Algorithm string           // one of SigningAlgorithms
	Key       crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey
}

// NewPublicKey describes key for publication: the algorithm follows from the
// key type (RSA: RS256, P-256: ES256) and the kid is its RFC 7638
// thumbprint, so every container and any JOSE library compute the same kid
// for the same key. NewPublicKeyFor names another algorithm (PS256).
func NewPublicKey(key crypto.PublicKey) (PublicKey, error) {
	jwk, err := jwkOf(key)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{KeyID: jwk.thumbprint(), Algorithm: jwk.Alg, Key: key}, nil
}

// NewPublicKeyFor is NewPublicKey for a key that signs alg, one of
// SigningAlgorithms: RS256 and PS256 need an RSA key, ES256 a P-256 key.
func NewPublicKeyFor(alg string, key crypto.PublicKey) (PublicKey, error) {
	pk, err := NewPublicKey(key)
	if err != nil {
		return PublicKey{}, err
	}
	if !KeyFits(alg, key) {
		return PublicKey{}, fmt.Errorf("oidc: a %s key cannot sign %s", pk.Algorithm, alg)
	}
	pk.Algorithm = alg
	return pk, nil
}

// KeyFits reports whether key, a public key the provider can publish,
// signs alg.
func KeyFits(alg string, key crypto.PublicKey) bool {
	switch key.(type) {
	case *rsa.PublicKey:
		return alg == RS256 || alg == PS256
	case *ecdsa.PublicKey:
		return alg == ES256
	}
	return false
}

// pssOptions are RFC 7518 §3.5's: MGF1 with SHA-256, a salt as long as the
// hash (32 bytes), for signing and, strictly, for verifying.
var pssOptions = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}

// SignWith signs signingInput with an in-process private key for alg:
// RSASSA-PKCS1-v1_5 SHA-256 (RS256), RSASSA-PSS SHA-256 with MGF1 SHA-256
// and a 32-byte salt (PS256, RFC 7518 §3.5), or ECDSA P-256 SHA-256 as the
// 64-byte R||S of RFC 7518 §3.4 (ES256). The local and data-key signers
// sign through it.
func SignWith(alg string, key crypto.Signer, signingInput []byte) ([]byte, error) {
	if !KeyFits(alg, key.Public()) {
		return nil, fmt.Errorf("oidc: the key cannot sign %s", alg)
	}
	digest := sha256.Sum256(signingInput)
	switch alg {
	case ES256:
		der, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		var sig struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(der, &sig); err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		sig.R.FillBytes(out[:32])
		sig.S.FillBytes(out[32:])
		return out, nil
	case PS256:
		return key.Sign(rand.Reader, digest[:], pssOptions)
	default:
		return key.Sign(rand.Reader, digest[:], crypto.SHA256)
	}
}

// VerifySignature checks a JWS signature (RFC 7515 §5.2) of signingInput
// by pk, strictly as RFC 7518 says for pk.Algorithm: PS256 only with a
// 32-byte salt, ES256 only as the 64-byte R||S.
func VerifySignature(pk PublicKey, signingInput, sig []byte) error {
	if !KeyFits(pk.Algorithm, pk.Key) {
		return fmt.Errorf("oidc: a %T cannot verify %s", pk.Key, pk.Algorithm)
	}
	digest := sha256.Sum256(signingInput)
	switch k := pk.Key.(type) {
	case *ecdsa.PublicKey:
		if len(sig) != 64 || !ecdsa.Verify(k, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return errors.New("oidc: invalid ES256 signature")
		}
	case *rsa.PublicKey:
		var err error
		if pk.Algorithm == PS256 {
			err = rsa.VerifyPSS(k, crypto.SHA256, digest[:], sig, pssOptions)
		} else {
			err = rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig)
		}
		if err != nil {
			return fmt.Errorf("oidc: invalid %s signature: %w", pk.Algorithm, err)
		}
	}
	return nil
}

// JWK is the RFC 7517 JSON form of a PublicKey.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	// RSA
	N string `json:"n,omitempty"`
	E string `json:"e,omitempty"`
	// EC
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWK returns the key as a signing JWK ("use": "sig").
func (k PublicKey) JWK() (JWK, error) {
	jwk, err := jwkOf(k.Key)
	if err != nil {
		return JWK{}, err
	}
	jwk.Kid, jwk.Use, jwk.Alg = k.KeyID, "sig", k.Algorithm
	return jwk, nil
}

// errUnsupportedKey reports a key the provider cannot publish or sign with.
var errUnsupportedKey = errors.New("oidc: unsupported key: want RSA (2048 bits or more) or ECDSA P-256")

func jwkOf(key crypto.PublicKey) (JWK, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return JWK{}, errUnsupportedKey
		}
		return JWK{Kty: "RSA", Alg: RS256, N: b64(k.N.Bytes()), E: b64(big.NewInt(int64(k.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return JWK{}, errUnsupportedKey
		}
		ecdh, err := k.ECDH()
		if err != nil {
			return JWK{}, fmt.Errorf("oidc: %w", err)
		}
		raw := ecdh.Bytes() // 0x04 || X || Y, fixed width
		return JWK{Kty: "EC", Alg: ES256, Crv: "P-256", X: b64(raw[1:33]), Y: b64(raw[33:])}, nil
	}
	return JWK{}, errUnsupportedKey
}

// thumbprint computes the RFC 7638 thumbprint: SHA-256 over the required
// members in lexicographic order with no whitespace.
func (j JWK) thumbprint() string {
	var canonical []byte
	switch j.Kty {
	case "RSA":
		canonical, _ = json.Marshal(struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{j.E, j.Kty, j.N})
	case "EC":
		canonical, _ = json.Marshal(struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{j.Crv, j.Kty, j.X, j.Y})
	}
	sum := sha256.Sum256(canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
