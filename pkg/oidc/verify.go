package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Verification of the provider's own tokens, through the keys it publishes:
// access tokens at userinfo, introspection and revocation, ID tokens given
// back as id_token_hint.

var errInvalidToken = errors.New("oidc: invalid access token")

func isInvalidToken(err error) bool { return errors.Is(err, errInvalidToken) }

// ownKeys is a jwt.Keyfunc that accepts only this provider's published keys,
// each only with its own algorithm, and only tokens whose "typ" is (access)
// or is not (ID token) RFC 9068's at+jwt. A failure to load the key set is
// recorded in *loadErr: it is not the token's fault.
func (b *base) ownKeys(ctx context.Context, access bool, loadErr *error) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		typ, _ := t.Header["typ"].(string)
		if isAccess := strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), typAccessToken); isAccess != access {
			return nil, errors.New("wrong token type")
		}
		if b.keys == nil {
			*loadErr = errNoSigner
			return nil, errNoSigner
		}
		kid, _ := t.Header["kid"].(string)
		key, ok, err := b.keys.key(ctx, kid)
		if err != nil {
			*loadErr = err
			return nil, err
		}
		if !ok || key.Algorithm != t.Method.Alg() {
			return nil, errors.New("unknown key")
		}
		if key.Algorithm == PS256 {
			// golang-jwt verifies PS256 with any salt length; RFC 7518
			// §3.5 and this provider's signers use exactly 32 bytes.
			input := t.Raw[:max(strings.LastIndexByte(t.Raw, '.'), 0)]
			if err := VerifySignature(key, []byte(input), t.Signature); err != nil {
				return nil, err
			}
		}
		return key.Key, nil
	}
}

// verifyAccessToken checks an access token this provider issued: signature
// by a published key, RFC 9068 type, issuer and lifetime. It makes no
// storage call. Any audience passes: a user's token is for userinfo unless
// a token exchange or the client credentials grant named a resource
// server (RFC 8707, RFC 8693); userinfo checks that it is one of its own
// (forUserInfo), introspection and revocation answer for every token a
// client holds.
func (b *base) verifyAccessToken(ctx context.Context, raw string) (*accessTokenClaims, error) {
	claims := &accessTokenClaims{}
	var loadErr error
	tok, err := jwt.ParseWithClaims(raw, claims, b.ownKeys(ctx, true, &loadErr),
		jwt.WithValidMethods(SigningAlgorithms),
		jwt.WithIssuer(b.s.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(b.now),
	)
	if loadErr != nil {
		return nil, loadErr
	}
	if err != nil || !tok.Valid || claims.Subject == "" {
		return nil, fmt.Errorf("%w: %v", errInvalidToken, err)
	}
	return claims, nil
}

// forUserInfo reports whether verified access token claims are for the
// userinfo endpoint: a user's token (not a client credentials one) whose
// audience is userinfo.
func (b *base) forUserInfo(claims *accessTokenClaims) bool {
	return !isClientToken(claims) && slices.Contains(claims.Audience, b.URL(PathUserInfo))
}

// idTokenHint is what an id_token_hint tells: an ID token this provider
// issued, expired or not (OpenID Connect Core §3.1.2.1).
type idTokenHint struct {
	Subject  string
	Audience []string
}

// parseIDTokenHint verifies the signature and issuer of an ID token this
// provider issued, accepting expired tokens: a hint names a user, it
// grants nothing.
func (b *base) parseIDTokenHint(ctx context.Context, raw string) (idTokenHint, error) {
	claims := jwt.RegisteredClaims{}
	var loadErr error
	tok, err := jwt.ParseWithClaims(raw, &claims, b.ownKeys(ctx, false, &loadErr),
		jwt.WithValidMethods(SigningAlgorithms), jwt.WithoutClaimsValidation())
	if loadErr != nil {
		return idTokenHint{}, loadErr
	}
	// An ID token always has exp (OpenID Connect Core §2); a signed
	// userinfo response, by the same keys, has none (writeSigned).
	if err != nil || !tok.Valid || claims.Subject == "" || claims.Issuer != b.s.Issuer || claims.ExpiresAt == nil {
		return idTokenHint{}, fmt.Errorf("%w: id_token_hint: %v", errInvalidToken, err)
	}
	// The type is an ID token's, not a logout token's (logout+jwt, which
	// has exp too) nor anything else this provider signs.
	if typ, _ := tok.Header["typ"].(string); !strings.EqualFold(typ, typIDToken) {
		return idTokenHint{}, fmt.Errorf("%w: id_token_hint: a %q token is no ID token", errInvalidToken, typ)
	}
	return idTokenHint{Subject: claims.Subject, Audience: claims.Audience}, nil
}
