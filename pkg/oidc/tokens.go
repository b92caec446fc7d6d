package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWT "typ" header values. Access tokens are RFC 9068 JWTs; the distinct
// type keeps an ID token from being accepted as an access token (§4).
const (
	typAccessToken = "at+jwt"
	typIDToken     = "JWT"
)

// grant is what an issued token set asserts: who, for which client, with
// which scopes, authenticated when and how.
type grant struct {
	ClientID string
	Subject  string
	Scopes   []string
	Nonce    string
	AuthTime time.Time
	AMR      []string
	// Claims is the stored claims request (AuthRequest.Claims).
	Claims string
	// GrantID is the grant the tokens come from (every redeemed code starts
	// one): revoking it revokes its access tokens too (RFC 7009 §2.1).
	GrantID string
}

// tokenSet is a token endpoint response body (RFC 6749 §5.1,
// OpenID Connect Core §3.1.3.3).
type tokenSet struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// accessTokenClaims are the claims of an RFC 9068 access token. Its audience
// is the userinfo endpoint, never the client, so it cannot pass for an ID
// token at a relying party that checks aud.
type accessTokenClaims struct {
	jwt.RegisteredClaims
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	AuthTime int64    `json:"auth_time,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	// UserInfoClaims are claims the claims parameter asked userinfo to
	// release beyond the scopes (OpenID Connect Core §5.5).
	UserInfoClaims []string `json:"userinfo_claims,omitempty"`
	// GrantID is grant.GrantID.
	GrantID string `json:"grant_id,omitempty"`
}

// mintTokens signs an access token and an ID token for g, as the token
// endpoint returns them.
//
// By default the ID token carries at_hash of the access token, so it is
// signed second: at_hash is OPTIONAL at the token endpoint (OpenID Connect
// Core §3.1.3.6) but lets relying parties bind the pair, and go-oidc's
// VerifyAccessToken requires it. With Config.OmitTokenEndpointAtHash the two
// are signed concurrently instead: one signing round trip (KMS) of latency,
// not two.
func (p *Provider) mintTokens(ctx context.Context, g grant, user User) (tokenSet, error) {
	var accessToken, idToken string
	var err error
	if p.cfg.OmitTokenEndpointAtHash {
		err = run2(
			func() (err error) { accessToken, err = p.mintAccessToken(ctx, g); return err },
			func() (err error) { idToken, err = p.mintIDToken(ctx, g, user, "", ""); return err },
		)
	} else if accessToken, err = p.mintAccessToken(ctx, g); err == nil {
		idToken, err = p.mintIDToken(ctx, g, user, accessToken, "")
	}
	if err != nil {
		return tokenSet{}, err
	}
	return tokenSet{
		AccessToken: accessToken,
		TokenType:   "Bearer",
		ExpiresIn:   int64(p.cfg.IDTokenLifetime / time.Second),
		IDToken:     idToken,
		Scope:       strings.Join(g.Scopes, " "),
	}, nil
}

// mintAccessToken signs an RFC 9068 access token.
func (p *Provider) mintAccessToken(ctx context.Context, g grant) (string, error) {
	now := p.now().Truncate(time.Second)
	jti, err := newSecret(p.rand)
	if err != nil {
		return "", err
	}
	_, userInfoClaims := requestedClaims(g.Claims)
	return p.sign(ctx, typAccessToken, accessTokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    p.cfg.Issuer,
			Subject:   g.Subject,
			Audience:  jwt.ClaimStrings{p.URL(PathUserInfo)},
			ExpiresAt: jwt.NewNumericDate(now.Add(p.cfg.IDTokenLifetime)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		ClientID:       g.ClientID,
		Scope:          strings.Join(g.Scopes, " "),
		AuthTime:       g.AuthTime.Unix(),
		AMR:            g.AMR,
		UserInfoClaims: userInfoClaims,
		GrantID:        g.GrantID,
	})
}

// mintIDToken signs an ID token (OpenID Connect Core §2). accessToken and
// code, when not empty, are bound by at_hash and c_hash (§3.3.2.11).
func (p *Provider) mintIDToken(ctx context.Context, g grant, user User, accessToken, code string) (string, error) {
	now := p.now().Truncate(time.Second)
	idClaims, _ := requestedClaims(g.Claims)
	claims := jwt.MapClaims{}
	for k, v := range userClaims(user, g.Scopes, idClaims) {
		claims[k] = v
	}
	aud := []string{g.ClientID}
	for _, peer := range peerAudiences(g.Scopes) {
		if !slices.Contains(aud, peer) {
			aud = append(aud, peer)
		}
	}
	if len(aud) == 1 {
		claims["aud"] = g.ClientID
	} else {
		// Several audiences: azp names the party the token was issued to
		// (OpenID Connect Core §2).
		claims["aud"] = aud
		claims["azp"] = g.ClientID
	}
	claims["iss"] = p.cfg.Issuer
	claims["sub"] = g.Subject
	claims["exp"] = now.Add(p.cfg.IDTokenLifetime).Unix()
	claims["iat"] = now.Unix()
	claims["auth_time"] = g.AuthTime.Unix()
	if accessToken != "" {
		claims["at_hash"] = leftHalfHash(accessToken)
	}
	if code != "" {
		claims["c_hash"] = leftHalfHash(code)
	}
	if g.Nonce != "" {
		claims["nonce"] = g.Nonce
	}
	if len(g.AMR) > 0 {
		claims["amr"] = g.AMR
	}
	if slices.Contains(g.AMR, amrPassword) {
		claims["acr"] = acrPassword
	}
	return p.sign(ctx, typIDToken, claims)
}

// sign makes a compact JWS of claims with the signer's active key.
func (p *Provider) sign(ctx context.Context, typ string, claims jwt.Claims) (string, error) {
	key, err := p.cfg.Signer.SigningKey(ctx)
	if err != nil {
		return "", fmt.Errorf("signing key: %w", err)
	}
	method := jwt.GetSigningMethod(key.Algorithm)
	if method == nil || !slices.Contains(p.cfg.SigningAlgorithms, key.Algorithm) {
		// Discovery advertises SigningAlgorithms; a token in another
		// algorithm would fail at every relying party.
		return "", fmt.Errorf("signing key: algorithm %q is not the advertised %v", key.Algorithm, p.cfg.SigningAlgorithms)
	}
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = key.KeyID
	tok.Header["typ"] = typ
	input, err := tok.SigningString()
	if err != nil {
		return "", err
	}
	sig, err := p.cfg.Signer.Sign(ctx, key.KeyID, []byte(input))
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// leftHalfHash is at_hash / c_hash (OpenID Connect Core §3.1.3.6): the
// base64url left half of the hash that matches the JWS algorithm, SHA-256
// for RS256 and ES256, the only algorithms the provider signs with (sign
// refuses any other).
func leftHalfHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

var errInvalidToken = errors.New("oidc: invalid access token")

func isInvalidToken(err error) bool { return errors.Is(err, errInvalidToken) }

// ownKeys is a jwt.Keyfunc that accepts only this provider's published keys,
// each only with its own algorithm, and only tokens whose "typ" is (access)
// or is not (ID token) RFC 9068's at+jwt. A failure to load the key set is
// recorded in *loadErr: it is not the token's fault.
func (p *Provider) ownKeys(ctx context.Context, access bool, loadErr *error) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		typ, _ := t.Header["typ"].(string)
		if isAccess := strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), typAccessToken); isAccess != access {
			return nil, errors.New("wrong token type")
		}
		kid, _ := t.Header["kid"].(string)
		key, ok, err := p.keys.key(ctx, kid)
		if err != nil {
			*loadErr = err
			return nil, err
		}
		if !ok || key.Algorithm != t.Method.Alg() {
			return nil, errors.New("unknown key")
		}
		return key.Key, nil
	}
}

// verifyAccessToken checks an access token this provider issued: signature
// by a published key, RFC 9068 type, issuer, audience and lifetime. It makes
// no storage call.
func (p *Provider) verifyAccessToken(ctx context.Context, raw string) (*accessTokenClaims, error) {
	claims := &accessTokenClaims{}
	var loadErr error
	tok, err := jwt.ParseWithClaims(raw, claims, p.ownKeys(ctx, true, &loadErr),
		jwt.WithValidMethods([]string{RS256, ES256}),
		jwt.WithIssuer(p.cfg.Issuer),
		jwt.WithAudience(p.URL(PathUserInfo)),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(p.now),
	)
	if loadErr != nil {
		return nil, loadErr
	}
	if err != nil || !tok.Valid || claims.Subject == "" {
		return nil, fmt.Errorf("%w: %v", errInvalidToken, err)
	}
	return claims, nil
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
func (p *Provider) parseIDTokenHint(ctx context.Context, raw string) (idTokenHint, error) {
	claims := jwt.RegisteredClaims{}
	var loadErr error
	tok, err := jwt.ParseWithClaims(raw, &claims, p.ownKeys(ctx, false, &loadErr),
		jwt.WithValidMethods([]string{RS256, ES256}), jwt.WithoutClaimsValidation())
	if loadErr != nil {
		return idTokenHint{}, loadErr
	}
	if err != nil || !tok.Valid || claims.Subject == "" || claims.Issuer != p.cfg.Issuer {
		return idTokenHint{}, fmt.Errorf("%w: id_token_hint: %v", errInvalidToken, err)
	}
	return idTokenHint{Subject: claims.Subject, Audience: claims.Audience}, nil
}
