package oidc

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// serveRevoke is the revocation endpoint (RFC 7009). Revoking a refresh
// token revokes its whole family and the access tokens it issued; revoking
// an access token records its jti until it expires. Unknown, malformed and
// expired tokens get 200, as §2.2 requires: there is nothing left to do.
func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if err := p.revoke(w, r); err != nil {
		p.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) error {
	params, client, err := p.backChannelRequest(w, r)
	if err != nil {
		return err
	}
	token := params.Get("token")
	if token == "" {
		return errorf(ErrCodeInvalidRequest, "token is missing")
	}
	ctx := r.Context()
	// token_type_hint only speeds up lookup (§2.1); both forms are told
	// apart by their shape, so it is not needed.
	if family, ok := refreshFamily(token); ok {
		g, err := p.cfg.Refresh.RefreshGrant(ctx, HashSecret(family))
		switch {
		case isNotFound(err):
			return nil
		case err != nil:
			return internalError(err)
		case g.ClientID != client.ID:
			// §2.1: a client may revoke only its own tokens.
			return errorf(ErrCodeUnauthorizedClient, "the token was not issued to this client")
		}
		if err := p.cfg.Refresh.RevokeRefreshGrant(ctx, g.ID, p.now().Add(p.cfg.IDTokenLifetime)); err != nil && !isNotFound(err) {
			return internalError(err)
		}
		p.log.InfoContext(ctx, "refresh token family revoked", "client_id", client.ID, "request_id", RequestID(ctx))
		return nil
	}
	claims, err := p.verifyAccessToken(ctx, token)
	if err != nil {
		if isInvalidToken(err) {
			return nil
		}
		return internalError(err)
	}
	if claims.ClientID != client.ID {
		return errorf(ErrCodeUnauthorizedClient, "the token was not issued to this client")
	}
	if err := p.cfg.Revocations.RevokeAccessToken(ctx, claims.ID, claims.ExpiresAt.Time); err != nil {
		return internalError(err)
	}
	return nil
}

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

// backChannelRequest parses a form POST and authenticates the client, as the
// token endpoint does.
//
// The answer is readable cross-origin only by the origins of the client
// that authenticated (and the provider-wide ones): until then, by the
// provider-wide origins alone.
func (p *Provider) backChannelRequest(w http.ResponseWriter, r *http.Request) (url.Values, Client, error) {
	params, client, err := p.parseBackChannel(w, r)
	p.narrowCORS(w, r, client)
	return params, client, err
}

func (p *Provider) parseBackChannel(w http.ResponseWriter, r *http.Request) (url.Values, Client, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return nil, Client{}, errorf(ErrCodeInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	params, err := p.readParams(w, r, false)
	if err != nil {
		return nil, Client{}, err
	}
	client, err := p.authenticateClient(r, params)
	if err != nil {
		return nil, Client{}, err
	}
	return params, client, nil
}
