package oidc

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// serveIntrospect is the introspection endpoint (RFC 7662), for
// confidential clients only (Dex answers anyone). A token is active only
// for the client it was issued to, and an access token also for the
// IntrospectionClients of a resource server among its aud (the API it is
// for: RFC 7662 §2.1 leaves to the server which protected resources may
// introspect which tokens); anything expired, revoked, malformed or
// foreign is just {"active": false}. Refresh tokens are their client's
// alone.
func (t *Token) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	body, err := t.introspect(w, r)
	if err != nil {
		t.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

var inactive = map[string]any{"active": false}

func (t *Token) introspect(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	params, client, err := t.backChannelRequest(w, r)
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
	now := t.now()
	if family, ok := refreshFamily(token); ok {
		g, err := t.refresh.RefreshGrant(ctx, HashSecret(family))
		switch {
		case isNotFound(err):
			return inactive, nil
		case err != nil:
			return nil, internalError(err)
		}
		if g.Revoked || g.ClientID != client.ID || g.TokenHash == "" || t.classify(token, g, now) == tokenReused ||
			!now.Before(t.s.RefreshTokens.expiry(g.CreatedAt, g.LastUsed)) {
			return inactive, nil
		}
		if !t.userActive(ctx, g.Subject) {
			return inactive, nil
		}
		return map[string]any{
			"active": true, "client_id": g.ClientID, "sub": g.Subject, "scope": strings.Join(g.Scopes, " "),
			"iss": t.s.Issuer, "iat": g.RotatedAt.Unix(), "exp": t.s.RefreshTokens.expiry(g.CreatedAt, g.LastUsed).Unix(),
		}, nil
	}
	claims, err := t.verifyAccessToken(ctx, token)
	if err != nil {
		if isInvalidToken(err) {
			return inactive, nil
		}
		return nil, internalError(err)
	}
	if claims.ClientID != client.ID && !t.apis().introspects(client, claims.Audience) {
		return inactive, nil
	}
	revoked, err := t.revocations.AccessTokenRevoked(ctx, claims.ID, claims.GrantID)
	if err != nil {
		return nil, internalError(err)
	}
	if revoked || !t.subjectActive(ctx, client, claims) {
		return inactive, nil
	}
	body := map[string]any{
		"active": true, "token_type": "Bearer", "client_id": claims.ClientID, "sub": claims.Subject,
		"scope": claims.Scope, "iss": claims.Issuer, "aud": claims.Audience, "jti": claims.ID,
		"iat": claims.IssuedAt.Unix(), "exp": claims.ExpiresAt.Unix(),
	}
	if claims.GrantType != "" {
		body["gty"] = claims.GrantType
	}
	if claims.Cnf != nil {
		// RFC 9449 §6.2: the key the token is bound to.
		body["cnf"], body["token_type"] = claims.Cnf, TokenTypeDPoP
	}
	if claims.Act != nil {
		// RFC 8693 §4.1, §4.4: the actor chain of an exchanged token.
		body["act"] = claims.Act
	}
	return body, nil
}

// subjectActive reports whether what an access token speaks for is still
// there: its user, or for a client credentials token (no user), its
// client, still allowed the grant: the introspecting client, or for a
// resource server's introspection, the token's client, read again.
func (t *Token) subjectActive(ctx context.Context, client Client, claims *accessTokenClaims) bool {
	if isClientToken(claims) && claims.ClientID != client.ID {
		owner, err := t.clients.Client(ctx, claims.ClientID)
		if err != nil {
			return false
		}
		client = owner
	}
	if isClientToken(claims) {
		return !client.Public && slices.Contains(t.s.GrantTypes, GrantClientCredentials) && clientMayUse(client, GrantClientCredentials)
	}
	return t.userActive(ctx, claims.Subject)
}

// userActive reports whether the user exists and is enabled; a store
// failure counts as inactive (introspection answers "not active" rather
// than vouching for a token it could not check).
func (t *Token) userActive(ctx context.Context, subject string) bool {
	u, err := t.users.User(ctx, subject)
	return err == nil && !u.Disabled
}
