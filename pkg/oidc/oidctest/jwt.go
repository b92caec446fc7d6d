package oidctest

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Signing and verifying test JWTs through a Signer, as the provider does.

// SignJWT mints a compact JWS of claims with s's RS256 key (its ES256 key
// if it has no RS256 one), the way the core does (header alg and kid from
// SigningKey), but independently of the core's code. It is meant for tests
// that need a token from a particular signer.
func SignJWT(ctx context.Context, s oidc.Signer, claims any) (string, error) {
	pk, err := s.SigningKey(ctx, oidc.RS256)
	if errors.Is(err, oidc.ErrNoSigningKey) {
		pk, err = s.SigningKey(ctx, oidc.ES256)
	}
	if err != nil {
		return "", err
	}
	return signJWTWith(ctx, s, pk.KeyID, pk.Algorithm, claims)
}

// SignJWTAlg is SignJWT with the key of alg.
func SignJWTAlg(ctx context.Context, s oidc.Signer, alg string, claims any) (string, error) {
	pk, err := s.SigningKey(ctx, alg)
	if err != nil {
		return "", err
	}
	return signJWTWith(ctx, s, pk.KeyID, pk.Algorithm, claims)
}

func signJWTWith(ctx context.Context, s oidc.Signer, kid, alg string, claims any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64(header) + "." + b64(payload)
	sig, err := s.Sign(ctx, kid, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

// testClaims returns valid claims; pad makes the payload at least that long.
func testClaims(sub string, pad int) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "https://oidctest.invalid",
		"aud": "oidctest",
		"sub": sub,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		"pad": strings.Repeat("p", pad),
	}
}

// verifyJWT checks token against keys with golang-jwt, accepting only the
// algorithm of the key named by the token's kid.
func verifyJWT(token string, keys []oidc.PublicKey) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		for _, k := range keys {
			if k.KeyID == kid {
				if tok.Method.Alg() != k.Algorithm {
					return nil, fmt.Errorf("token alg %s, key alg %s", tok.Method.Alg(), k.Algorithm)
				}
				if k.Algorithm == oidc.PS256 {
					// golang-jwt accepts any PSS salt length; RFC 7518
					// §3.5 says 32 bytes (the hash's length).
					if err := verifyPSS(tok, k); err != nil {
						return nil, err
					}
				}
				return k.Key, nil
			}
		}
		return nil, fmt.Errorf("no published key with kid %q", kid)
	}, jwt.WithValidMethods([]string{oidc.RS256, oidc.ES256, oidc.PS256}), jwt.WithExpirationRequired())
	if err != nil {
		return nil, err
	}
	return claims, nil
}

// verifyPSS checks a PS256 signature with crypto/rsa as RFC 7518 §3.5 says:
// SHA-256, MGF1 with SHA-256, a 32-byte salt.
func verifyPSS(tok *jwt.Token, k oidc.PublicKey) error {
	pub, ok := k.Key.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("PS256 key %s is a %T", k.KeyID, k.Key)
	}
	digest := sha256.Sum256([]byte(tok.Raw[:strings.LastIndexByte(tok.Raw, '.')]))
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], tok.Signature, &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256}); err != nil {
		return fmt.Errorf("PS256 signature with a 32-byte salt: %w", err)
	}
	return nil
}
