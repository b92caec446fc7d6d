package oidc

import (
	"context"
	"slices"
	"strings"
)

// ErrCodeInvalidTarget is RFC 8707 §2's error for a resource (audience)
// the client may not have a token for.
const ErrCodeInvalidTarget = "invalid_target"

// clientCredentialsGrant is the client credentials grant (RFC 6749 §4.4):
// a confidential client, already authenticated by the dispatcher, gets an
// access token for itself. The dispatcher lets a client use it only when
// its Client.GrantTypes lists it (the grant is opt-in).
//
// The token is the RFC 9068 JWT of every grant with sub and client_id the
// client, the gty claim "client_credentials" (no user: userinfo refuses
// it, introspection skips the user check), no auth_time, and the scope
// asked for, a subset of Client.AllowedScopes: all of them when scope is
// left out (RFC 6749 §3.3's pre-defined default), and the scopes of the
// resource servers it names. Its audience is the resource or audience
// parameters, each one of Client.AllowedAudiences or a resource server
// that allows the client (RFC 8707), else the default audience of access
// tokens. No ID token and
// no refresh token (§4.4.3); nothing is stored.
func (t *Token) clientCredentialsGrant(ctx context.Context, req tokenRequest) (tokenSet, error) {
	if req.client.Public {
		// RFC 6749 §4.4: only for confidential clients.
		return tokenSet{}, errorf(ErrCodeUnauthorizedClient, "the client_credentials grant is for confidential clients")
	}
	audience, e := t.apis().serviceTargets(req.client, append(req.params["resource"], req.params["audience"]...))
	if e != nil {
		return tokenSet{}, e
	}
	scopes, e := clientCredentialsScopes(req.client, req.params.Get("scope"))
	if e != nil {
		return tokenSet{}, e
	}
	// An API's scope only for that API: a client allowed "read" for one
	// API does not get another API's "read".
	scopes = t.apis().scopesFor(scopes, audience)
	g := grant{ClientID: req.client.ID, Subject: req.client.ID, Scopes: scopes, Audience: audience, GrantType: GrantClientCredentials, JKT: req.jkt}
	set, err := t.mintTokens(ctx, g, User{})
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	t.log.DebugContext(ctx, "client credentials token issued", "client_id", req.client.ID, "request_id", RequestID(ctx))
	return set, nil
}

// clientCredentialsScopes checks the scope parameter of a client
// credentials request: every scope one of client.AllowedScopes (an API's
// scopes too: a token with no user gets only what the operator listed for
// the client), and never openid or a user scope (IsUserScope). Without
// scope, all of those.
func clientCredentialsScopes(client Client, param string) ([]string, *Error) {
	allowed := client.AllowedScopes
	requested := strings.Fields(param)
	if len(requested) == 0 {
		return allowed, nil
	}
	var out []string
	for _, s := range requested {
		switch {
		case IsUserScope(s):
			return nil, errorf(ErrCodeInvalidScope, "openid and the scopes about users are not for client credentials tokens: they have no user")
		case !slices.Contains(allowed, s):
			return nil, errorf(ErrCodeInvalidScope, "a requested scope is not allowed for this client")
		case !slices.Contains(out, s):
			out = append(out, s)
		}
	}
	return out, nil
}

// IsUserScope reports whether scope s asks for something about a user:
// openid, the claim scopes, offline_access and the cross-client audience
// scopes. A client credentials token has no user, so these are refused
// there, and config refuses them among a client's allowed scopes.
func IsUserScope(s string) bool {
	return slices.Contains(Scopes, s) || strings.HasPrefix(s, ScopeAudiencePrefix)
}

// isClientToken reports whether verified access token claims are a client
// credentials token: no user behind it.
func isClientToken(c *accessTokenClaims) bool {
	return c.GrantType == GrantClientCredentials
}
