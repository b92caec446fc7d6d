package oidc

import (
	"context"
	"slices"
	"strings"
	"time"
)

// own exchanges one of this provider's own access tokens (no
// connector_id) for another access token about the same user: narrower
// scope or another allowed audience, never wider, for a service that
// calls the next one with only what that one needs. The act claim names
// the exchanging client, over the subject token's act (RFC 8693 §4.1), and
// introspection shows it.
//
// The subject token must verify (signature, issuer, expiry), must not be
// revoked, and its user must still exist; a client credentials token has
// no user and is refused. A client may exchange the tokens issued to it,
// and the tokens meant for an API it serves (it is among that resource
// server's IntrospectionClients: the API's own credentials), which is
// how a service chain hands a user on (delegation: the act chain records
// each hop); never another client's token it merely got hold of. An API's
// scopes go only to that API, and only when the subject token was for it
// too: a user's consent at one API is never carried to another. The new
// token is issued to the exchanging client, keeps the subject token's
// grant (revoking that refresh family revokes it too) and its
// authentication time, and never outlives the subject token.
func (t exchange) own(ctx context.Context) (tokenSet, error) {
	client, x := t.client, t.x
	switch {
	case x.subjectType != TokenTypeAccessToken:
		return tokenSet{}, errorf(ErrCodeSubjectToken, "without connector_id, subject_token is an access token of this provider (subject_token_type "+TokenTypeAccessToken+")")
	case x.requestedType != TokenTypeAccessToken:
		return tokenSet{}, errorf(ErrCodeInvalidRequest, "an access token of this provider is exchanged for an access token only")
	}
	claims, e := t.ownSubject(ctx, x.subjectToken)
	if e != nil {
		return tokenSet{}, e
	}
	scopes, e := narrowerScopes(strings.Fields(claims.Scope), x)
	if e != nil {
		return tokenSet{}, e
	}
	audience, e := t.apis().serviceTargets(client, append(slices.Clone(x.resource), x.audience...))
	if e != nil {
		return tokenSet{}, e
	}
	if len(audience) == 0 {
		audience = claims.Audience // unchanged: never wider
	}
	scopes = t.apis().scopesFor(scopes, intersect(audience, claims.Audience))
	g := grant{ClientID: client.ID, Subject: claims.Subject, Scopes: scopes, AMR: claims.AMR, GrantID: claims.GrantID,
		Audience: audience, Act: &Actor{Subject: client.ID, Act: claims.Act}, NotAfter: claims.ExpiresAt.Time}
	if claims.AuthTime != 0 {
		g.AuthTime = time.Unix(claims.AuthTime, 0)
	}
	t.log.InfoContext(ctx, "own access token exchanged", "client_id", client.ID, "subject_client_id", claims.ClientID, "request_id", RequestID(ctx))
	return t.issue(ctx, g, User{}, TokenTypeAccessToken)
}

// ownSubject verifies a subject token of this provider for client: a
// valid access token, not revoked, about a user who still exists, and one
// client may exchange (own). Every refusal is ErrCodeSubjectToken
// (RFC 8693 §2.2.2).
func (t exchange) ownSubject(ctx context.Context, raw string) (*accessTokenClaims, *Error) {
	client := t.client
	claims, err := t.verifyAccessToken(ctx, raw)
	switch {
	case isInvalidToken(err):
		return nil, errorf(ErrCodeSubjectToken, "the subject token is not a valid access token of this provider (expired, malformed, or another issuer's)")
	case err != nil:
		return nil, internalError(err)
	case isClientToken(claims):
		return nil, errorf(ErrCodeSubjectToken, "the subject token was issued to a client for itself: it has no user")
	case client.Public && claims.ClientID != client.ID:
		return nil, errorf(ErrCodeSubjectToken, "a public client may exchange only the tokens issued to it")
	case claims.ClientID != client.ID && !t.apis().introspects(client, claims.Audience):
		return nil, errorf(ErrCodeSubjectToken, "the subject token was issued to another client, for no API this client serves")
	case actorDepth(claims.Act) >= maxActorDepth:
		return nil, errorf(ErrCodeSubjectToken, "the subject token has passed through too many services")
	}
	revoked, err := t.revocations.AccessTokenRevoked(ctx, claims.ID, claims.GrantID)
	switch {
	case err != nil:
		return nil, internalError(err)
	case revoked:
		return nil, errorf(ErrCodeSubjectToken, "the subject token was revoked")
	}
	u, err := t.users.User(ctx, claims.Subject)
	switch {
	case isNotFound(err) || (err == nil && u.Disabled):
		return nil, errorf(ErrCodeSubjectToken, "the subject token's user no longer exists")
	case err != nil:
		return nil, internalError(err)
	}
	return claims, nil
}

// narrowerScopes are the scopes of an own-token exchange: those asked
// for, each one the subject token has (else invalid_scope: never wider);
// all of the subject token's when scope is left out.
func narrowerScopes(have []string, x exchangeRequest) ([]string, *Error) {
	if !x.scopeGiven {
		return have, nil
	}
	var out []string
	for _, s := range x.scopes {
		switch {
		case !slices.Contains(have, s):
			return nil, errorf(ErrCodeInvalidScope, "a requested scope is not in the subject token: an exchange never widens scope")
		case !slices.Contains(out, s):
			out = append(out, s)
		}
	}
	return out, nil
}

// actorDepth is the length of an act chain.
func actorDepth(a *Actor) int {
	n := 0
	for ; a != nil; a = a.Act {
		n++
	}
	return n
}

// intersect lists the members of a that b has too, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
