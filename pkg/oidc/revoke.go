package oidc

import "net/http"

// serveRevoke is the revocation endpoint (RFC 7009). Revoking a refresh
// token revokes its whole family and the access tokens it issued; revoking
// an access token records its jti until it expires. Unknown, malformed and
// expired tokens get 200, as §2.2 requires: there is nothing left to do.
func (t *Token) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if err := t.revoke(w, r); err != nil {
		t.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (t *Token) revoke(w http.ResponseWriter, r *http.Request) error {
	params, client, err := t.backChannelRequest(w, r)
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
		g, err := t.refresh.RefreshGrant(ctx, HashSecret(family))
		switch {
		case isNotFound(err):
			return nil
		case err != nil:
			return internalError(err)
		case g.ClientID != client.ID:
			// §2.1: a client may revoke only its own tokens.
			return errorf(ErrCodeUnauthorizedClient, "the token was not issued to this client")
		}
		if err := t.refresh.RevokeRefreshGrant(ctx, g.ID, t.now().Add(t.s.maxAccessTokenLifetime())); err != nil && !isNotFound(err) {
			return internalError(err)
		}
		t.log.InfoContext(ctx, "refresh token family revoked", "client_id", client.ID, "request_id", RequestID(ctx))
		return nil
	}
	claims, err := t.verifyAccessToken(ctx, token)
	if err != nil {
		if isInvalidToken(err) {
			return nil
		}
		return internalError(err)
	}
	if claims.ClientID != client.ID {
		return errorf(ErrCodeUnauthorizedClient, "the token was not issued to this client")
	}
	if err := t.revocations.RevokeAccessToken(ctx, claims.ID, claims.ExpiresAt.Time); err != nil {
		return internalError(err)
	}
	return nil
}
