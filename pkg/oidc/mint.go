package oidc

import (
	"cmp"
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
	// Audience is the access token's audience, with scope as it is; empty:
	// the userinfo endpoint. The client credentials and token exchange
	// grants set it (RFC 8707, RFC 8693).
	Audience []string
	// Resources are the resources a user's access token is for (RFC 8707):
	// its audience, with scope narrowed to theirs (tokenScopes). Empty:
	// Audience.
	Resources []string
	// GrantType marks an access token with no user behind it: the client
	// credentials grant sets it (the gty claim); empty for user tokens.
	GrantType string
	// IDTokenAlg is the client's ID token algorithm
	// (Client.IDTokenSigningAlg); empty: Settings.IDTokenSigningAlgorithm.
	IDTokenAlg string
	// OmitIDToken leaves the ID token out (a refresh for a client with
	// Client.OmitRefreshIDToken).
	OmitIDToken bool
	// Act is the actor chain of a token exchange (RFC 8693 §4.1).
	Act *Actor
	// NotAfter, when set, caps the tokens' expiry: an exchanged token
	// never outlives its subject token.
	NotAfter time.Time
	// IDTokenAudience, when set, is the ID token's aud instead of the
	// client and its audience scopes, with azp the client: a token
	// exchange's allowed audience.
	IDTokenAudience []string
	// JKT binds the access token to a DPoP key (RFC 9449 §6.1: cnf.jkt).
	JKT string
	// SID is the sid of the session the tokens come from (Back-Channel
	// Logout §2.1); "" for none.
	SID string
}

// Actor is the act claim (RFC 8693 §4.1): the acting party, and in Act
// the one that acted before it. Only the outermost is the current actor;
// the nested ones are history, never used for access decisions.
type Actor struct {
	Subject string `json:"sub"`
	Act     *Actor `json:"act,omitempty"`
}

// accessExpiry is when an access token for aud minted now for g
// expires: a resource server's AccessTokenTTL, else as expiry.
func (b *base) accessExpiry(g grant, aud []string, now time.Time) time.Time {
	ttl, _ := b.apis().accessTokenPolicy(aud)
	if ttl == 0 {
		return b.expiry(g, now)
	}
	exp := now.Add(ttl)
	if !g.NotAfter.IsZero() && g.NotAfter.Before(exp) {
		return g.NotAfter
	}
	return exp
}

// accessAudience is the aud of g's access token.
func (b *base) accessAudience(g grant) []string {
	switch {
	case len(g.Resources) > 0:
		return g.Resources
	case len(g.Audience) > 0:
		return g.Audience
	}
	return []string{b.URL(PathUserInfo)}
}

// expiry is when tokens minted now for g expire.
func (b *base) expiry(g grant, now time.Time) time.Time {
	exp := now.Add(b.s.IDTokenLifetime)
	if !g.NotAfter.IsZero() && g.NotAfter.Before(exp) {
		return g.NotAfter
	}
	return exp
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
	// IssuedTokenType is the type of the token in AccessToken, for a
	// token exchange (RFC 8693 §2.2.1).
	IssuedTokenType string `json:"issued_token_type,omitempty"`
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
	// GrantType is grant.GrantType: "client_credentials" on a token whose
	// subject is the client itself (as Auth0's gty claim).
	GrantType string `json:"gty,omitempty"`
	// Act is grant.Act: who acts for the subject (RFC 8693 §4.1).
	Act *Actor `json:"act,omitempty"`
	// Cnf is grant.JKT: a DPoP-bound token (RFC 9449 §6.1).
	Cnf *confirmation `json:"cnf,omitempty"`
}

// mintTokens signs an access token and an ID token for g, as the token
// endpoint returns them. The access token is ES256 when the signer has an
// ES256 key and the ID token is in the client's algorithm (RS256 by
// default), so a response costs at most one RSA signature, and none for a
// client with ES256 ID tokens.
//
// By default the ID token carries at_hash of the access token, so it is
// signed second: at_hash is OPTIONAL at the token endpoint (OpenID Connect
// Core §3.1.3.6) but lets relying parties bind the pair, and go-oidc's
// VerifyAccessToken requires it. With Settings.OmitTokenEndpointAtHash the two
// are signed concurrently instead: one signing round trip (KMS) of latency,
// not two.
func (b *base) mintTokens(ctx context.Context, g grant, user User) (tokenSet, error) {
	var accessToken, idToken string
	var err error
	switch {
	case !slices.Contains(g.Scopes, ScopeOpenID) || g.OmitIDToken:
		// A refresh that narrowed the scope to leave openid out is plain
		// OAuth: no ID token (OpenID Connect Core §12.2, §3.1.2.1); a
		// client may also ask for none on refresh (§12.2: "MAY").
		accessToken, err = b.mintAccessToken(ctx, g)
	case b.s.OmitTokenEndpointAtHash:
		err = run2(
			func() (err error) { accessToken, err = b.mintAccessToken(ctx, g); return err },
			func() (err error) { idToken, err = b.mintIDToken(ctx, g, user, "", ""); return err },
		)
	default:
		if accessToken, err = b.mintAccessToken(ctx, g); err == nil {
			idToken, err = b.mintIDToken(ctx, g, user, accessToken, "")
		}
	}
	if err != nil {
		return tokenSet{}, err
	}
	tokenType := "Bearer"
	if g.JKT != "" {
		tokenType = TokenTypeDPoP // RFC 9449 §5
	}
	return tokenSet{
		AccessToken: accessToken,
		TokenType:   tokenType,
		ExpiresIn:   int64(b.accessExpiry(g, b.accessAudience(g), b.now()).Sub(b.now()) / time.Second),
		IDToken:     idToken,
		// RFC 6749 §5.1: the scope of the access token.
		Scope: strings.Join(b.apis().tokenScopes(g.Scopes, g.Resources), " "),
	}, nil
}

// mintAccessToken signs an RFC 9068 access token.
func (b *base) mintAccessToken(ctx context.Context, g grant) (string, error) {
	now := b.now().Truncate(time.Second)
	jti, err := newSecret(b.rand)
	if err != nil {
		return "", err
	}
	_, userInfoClaims := requestedClaims(g.Claims)
	aud := b.accessAudience(g)
	var authTime int64
	if !g.AuthTime.IsZero() {
		authTime = g.AuthTime.Unix()
	}
	var cnf *confirmation
	if g.JKT != "" {
		cnf = &confirmation{JKT: g.JKT}
	}
	_, alg := b.apis().accessTokenPolicy(aud)
	key, err := b.accessTokenKey(ctx, alg)
	if err != nil {
		return "", err
	}
	return b.sign(ctx, key, typAccessToken, accessTokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    b.s.Issuer,
			Subject:   g.Subject,
			Audience:  aud,
			ExpiresAt: jwt.NewNumericDate(b.accessExpiry(g, aud, now)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		ClientID:       g.ClientID,
		Scope:          strings.Join(b.apis().tokenScopes(g.Scopes, g.Resources), " "),
		AuthTime:       authTime,
		AMR:            g.AMR,
		UserInfoClaims: userInfoClaims,
		GrantID:        g.GrantID,
		GrantType:      g.GrantType,
		Act:            g.Act,
		Cnf:            cnf,
	})
}

// mintIDToken signs an ID token (OpenID Connect Core §2). accessToken and
// code, when not empty, are bound by at_hash and c_hash (§3.3.2.11).
func (b *base) mintIDToken(ctx context.Context, g grant, user User, accessToken, code string) (string, error) {
	now := b.now().Truncate(time.Second)
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
	switch {
	case len(g.IDTokenAudience) > 0:
		claims["aud"] = g.IDTokenAudience
		claims["azp"] = g.ClientID
	case len(aud) == 1:
		claims["aud"] = g.ClientID
	default:
		// Several audiences: azp names the party the token was issued to
		// (OpenID Connect Core §2).
		claims["aud"] = aud
		claims["azp"] = g.ClientID
	}
	claims["iss"] = b.s.Issuer
	claims["sub"] = g.Subject
	claims["exp"] = b.expiry(g, now).Unix()
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
	if g.SID != "" {
		claims["sid"] = g.SID
	}
	if slices.Contains(g.AMR, amrPassword) {
		claims["acr"] = acrPassword
	}
	key, err := b.idTokenKey(ctx, g.IDTokenAlg)
	if err != nil {
		return "", err
	}
	return b.sign(ctx, key, typIDToken, claims)
}

// accessTokenKey is the key access tokens are signed with: the key of alg
// when a resource server asks for one (ResourceServer.SigningAlg), else of
// Settings.AccessTokenAlgorithm when set; else the ES256 key when the
// signer has one (cheap to sign, and a response then needs at most one RSA
// signature), else the key of the default ID token algorithm (a KMS key
// list with RSA keys only).
func (b *base) accessTokenKey(ctx context.Context, alg string) (PublicKey, error) {
	if b.signer == nil {
		return PublicKey{}, errNoSigner
	}
	alg = cmp.Or(alg, b.s.AccessTokenAlgorithm)
	key, err := b.signer.SigningKey(ctx, cmp.Or(alg, ES256))
	if errors.Is(err, ErrNoSigningKey) && alg == "" {
		key, err = b.signer.SigningKey(ctx, b.s.IDTokenSigningAlgorithm)
	}
	if err != nil {
		return PublicKey{}, fmt.Errorf("signing key: %w", err)
	}
	return key, nil
}

// idTokenKey is the key of the ID token algorithm alg (a client's
// IDTokenSigningAlg; empty: the default). Discovery advertises
// IDTokenSigningAlgorithms: an ID token in another algorithm would fail at
// relying parties that check it, so it is never signed.
func (b *base) idTokenKey(ctx context.Context, alg string) (PublicKey, error) {
	if b.signer == nil {
		return PublicKey{}, errNoSigner
	}
	alg = cmp.Or(alg, b.s.IDTokenSigningAlgorithm)
	if !slices.Contains(b.s.IDTokenSigningAlgorithms, alg) {
		return PublicKey{}, fmt.Errorf("signing key: ID token algorithm %q is not the advertised %v", alg, b.s.IDTokenSigningAlgorithms)
	}
	key, err := b.signer.SigningKey(ctx, alg)
	if err != nil {
		return PublicKey{}, fmt.Errorf("signing key: %w", err)
	}
	return key, nil
}

// sign makes a compact JWS of claims with the signer's active key key.
func (b *base) sign(ctx context.Context, key PublicKey, typ string, claims jwt.Claims) (string, error) {
	method := jwt.GetSigningMethod(key.Algorithm)
	if method == nil || !slices.Contains(SigningAlgorithms, key.Algorithm) {
		return "", fmt.Errorf("signing key: unsupported algorithm %q", key.Algorithm)
	}
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = key.KeyID
	tok.Header["typ"] = typ
	input, err := tok.SigningString()
	if err != nil {
		return "", err
	}
	sig, err := b.signer.Sign(ctx, key.KeyID, []byte(input))
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// leftHalfHash is at_hash / c_hash (OpenID Connect Core §3.1.3.6): the
// base64url left half of the hash that matches the JWS algorithm, SHA-256
// for RS256, PS256 and ES256, the only algorithms the provider signs with
// (sign refuses any other).
func leftHalfHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
