package oidc

import (
	"context"
	"net/http"
	"strings"
)

// serveIntrospect is the introspection endpoint (RFC 7662), for
// confidential clients only (Dex answers anyone). A token is active only
// for the client it was issued to; anything expired, revoked, malformed or
// foreign is just {"active": false}.
func (p *Provider) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	body, err := p.introspect(w, r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

var inactive = map[string]any{"active": false}

func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	params, client, err := p.backChannelRequest(w, r)
	if err != nil {
		return nil, err
	}
	if client.Public {
		return nil, invalidClient(false, "introspection requires a confidential client")
	}
	token := params.Get("token")
	if token == "" {
		return nil, errorf(ErrCodeInvalidRequest, "token is missing")
	}
	ctx := r.Context()
	now := p.now()
	if family, ok := refreshFamily(token); ok {
		g, err := p.cfg.Refresh.RefreshGrant(ctx, HashSecret(family))
		switch {
		case isNotFound(err):
			return inactive, nil
		case err != nil:
			return nil, internalError(err)
		}
		if g.Revoked || g.ClientID != client.ID || g.TokenHash == "" || p.classify(token, g, now) == tokenReused ||
			!now.Before(p.cfg.RefreshTokens.expiry(g.CreatedAt, g.LastUsed)) {
			return inactive, nil
		}
		if !p.userActive(ctx, g.Subject) {
			return inactive, nil
		}
		return map[string]any{
			"active": true, "client_id": g.ClientID, "sub": g.Subject, "scope": strings.Join(g.Scopes, " "),
			"iss": p.cfg.Issuer, "iat": g.RotatedAt.Unix(), "exp": p.cfg.RefreshTokens.expiry(g.CreatedAt, g.LastUsed).Unix(),
		}, nil
	}
	claims, err := p.verifyAccessToken(ctx, token)
	if err != nil {
		if isInvalidToken(err) {
			return inactive, nil
		}
		return nil, internalError(err)
	}
	if claims.ClientID != client.ID {
		return inactive, nil
	}
	revoked, err := p.cfg.Revocations.AccessTokenRevoked(ctx, claims.ID, claims.GrantID)
	if err != nil {
		return nil, internalError(err)
	}
	if revoked || !p.userActive(ctx, claims.Subject) {
		return inactive, nil
	}
	return map[string]any{
		"active": true, "token_type": "Bearer", "client_id": claims.ClientID, "sub": claims.Subject,
		"scope": claims.Scope, "iss": claims.Issuer, "aud": claims.Audience, "jti": claims.ID,
		"iat": claims.IssuedAt.Unix(), "exp": claims.ExpiresAt.Unix(),
	}, nil
}

// userActive reports whether the user exists and is enabled; a store
// failure counts as inactive (introspection answers "not active" rather
// than vouching for a token it could not check).
func (p *Provider) userActive(ctx context.Context, subject string) bool {
	u, err := p.cfg.Users.User(ctx, subject)
	return err == nil && !u.Disabled
}
