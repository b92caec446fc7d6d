package oidc

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The token exchange grant (RFC 8693). With connector_id (Dex's
// parameter), the subject token is an upstream's, verified by that
// connector (TokenIdentityConnector), and the user it names gets this
// provider's tokens as at a login through the connector. Without it, the
// subject token is one of this provider's own access tokens, exchanged for
// one with narrower scope or another allowed audience, never wider, with
// the act claim naming the exchanging client (grant_token_exchange_own.go).

// GrantTokenExchange is the token exchange grant type (RFC 8693 §2.1).
// Opt-in: for a client only when its Client.GrantTypes lists it.
const GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// Token type identifiers (RFC 8693 §3) of subject_token_type,
// requested_token_type and issued_token_type.
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
)

// ErrCodeSubjectToken is the error for a subject token that is invalid for
// any reason (malformed, expired, revoked, another issuer's, the wrong
// type) or unacceptable by policy: RFC 8693 §2.2.2 says "the error code
// invalid_request MUST be used".
const ErrCodeSubjectToken = ErrCodeInvalidRequest

// tokenTypeNA is the token_type of an issued token that is not an access
// token (RFC 8693 §2.2.1).
const tokenTypeNA = "N_A"

// maxActorDepth bounds the act chain of an exchanged token (RFC 8693
// §4.1): a chain of services longer than this is refused, so tokens stay
// small.
const maxActorDepth = 8

// exchangeRequest is a parsed token exchange request (RFC 8693 §2.1).
type exchangeRequest struct {
	subjectToken, subjectType string
	requestedType             string // TokenTypeAccessToken when not asked
	connectorID               string
	scopes                    []string // scope, split
	scopeGiven                bool
	audience, resource        []string // audience at most once (the back channel refuses repeats); resource repeatable (RFC 8707 §2)
}

// parseExchange checks the parameters of a token exchange request:
// subject_token and subject_token_type are REQUIRED (§2.1), the token
// types are the ones this provider knows, and actor tokens (delegation by
// a second token) are not supported.
func parseExchange(p url.Values) (exchangeRequest, *Error) {
	x := exchangeRequest{
		subjectToken: p.Get("subject_token"), subjectType: p.Get("subject_token_type"),
		requestedType: p.Get("requested_token_type"), connectorID: p.Get("connector_id"),
		scopes: strings.Fields(p.Get("scope")), audience: p["audience"], resource: p["resource"],
	}
	_, x.scopeGiven = p["scope"]
	if x.requestedType == "" {
		x.requestedType = TokenTypeAccessToken
	}
	isType := func(s string) bool { return s == TokenTypeAccessToken || s == TokenTypeIDToken }
	switch {
	case x.subjectToken == "":
		return x, errorf(ErrCodeInvalidRequest, "subject_token is missing")
	case x.subjectType == "":
		return x, errorf(ErrCodeInvalidRequest, "subject_token_type is missing")
	case !isType(x.subjectType):
		return x, errorf(ErrCodeInvalidRequest, "subject_token_type must be "+TokenTypeAccessToken+" or "+TokenTypeIDToken)
	case !isType(x.requestedType):
		return x, errorf(ErrCodeInvalidRequest, "requested_token_type must be "+TokenTypeAccessToken+" or "+TokenTypeIDToken)
	case p.Has("actor_token") || p.Has("actor_token_type"):
		return x, errorf(ErrCodeInvalidRequest, "actor_token is not supported: the authenticated client is the actor")
	}
	return x, nil
}

// tokenExchangeGrant is the token exchange grant (RFC 8693 §2). The
// dispatcher has authenticated the client and checked that its
// Client.GrantTypes lists the grant. The answer is one token, in
// access_token whatever its type, with issued_token_type (§2.2.1); never
// a refresh token.
func tokenExchangeGrant(t *Token, ctx context.Context, req tokenRequest) (tokenSet, error) {
	x, e := parseExchange(req.params)
	if e != nil {
		return tokenSet{}, e
	}
	ex := exchange{Token: t, client: req.client, x: x}
	if x.connectorID == "" {
		return ex.own(ctx)
	}
	return ex.upstream(ctx)
}

// exchange is one token exchange request of an authenticated client.
type exchange struct {
	*Token
	client Client
	x      exchangeRequest
}

// upstream is Dex's token exchange: the connector connector_id
// names verifies the upstream's subject token and says who it speaks for;
// that user is recorded as at a login through the connector (the
// IdentityStore, Dex's subject), and gets this provider's access token or
// ID token. The client must be allowed the connector (allowedConnectors).
func (t exchange) upstream(ctx context.Context) (tokenSet, error) {
	client, x := t.client, t.x
	c, ok := t.connectors.byID(x.connectorID)
	if !ok {
		return tokenSet{}, errorf(ErrCodeInvalidRequest, "connector_id names no connector")
	}
	if !connectorAllowed(client, c.ID) {
		t.log.WarnContext(ctx, "token exchange refused: the client's allowedConnectors exclude the connector",
			"connector", c.ID, "client_id", client.ID, "request_id", RequestID(ctx))
		return tokenSet{}, errorf(ErrCodeUnauthorizedClient, "this client may not use connector "+c.ID)
	}
	ti, ok := c.Callback.(TokenIdentityConnector)
	if !ok {
		return tokenSet{}, errorf(ErrCodeInvalidRequest, "connector "+c.ID+" does not exchange tokens")
	}
	if client.Public && x.subjectType != TokenTypeIDToken {
		// An upstream access token says nothing of whom it was issued to:
		// any app holding a user's token could name a public client (which
		// anyone can) and become that user here. An ID token's audience is
		// the connector's own client at the upstream.
		return tokenSet{}, errorf(ErrCodeSubjectToken, "a public client may exchange an upstream ID token only")
	}
	g := grant{ClientID: client.ID, AuthTime: t.now(), IDTokenAlg: client.IDTokenSigningAlg}
	var e *Error
	if g.Scopes, e = t.scopes(ctx); e != nil {
		return tokenSet{}, e
	}
	if e = t.audience(ctx, &g); e != nil {
		return tokenSet{}, e
	}
	id, err := ti.TokenIdentity(ctx, ConnectorScopes{Groups: slices.Contains(g.Scopes, ScopeGroups)}, x.subjectType, x.subjectToken)
	switch {
	case errors.Is(err, ErrUnavailable):
		t.log.WarnContext(ctx, "token exchange: upstream unavailable", "connector", c.ID, "error", err, "request_id", RequestID(ctx))
		return tokenSet{}, internalError(err)
	case err != nil:
		return tokenSet{}, t.subjectRefused(ctx, c.ID, err)
	}
	user, err := t.users.vouched(ctx, c.ID, id)
	var ue *UpstreamError
	switch {
	case errors.As(err, &ue):
		return tokenSet{}, t.subjectRefused(ctx, c.ID, err)
	case err != nil:
		return tokenSet{}, internalError(err) // the directory's store
	}
	// The user is recorded (userinfo reads the record) beside the signing:
	// one round trip of latency, and a failure of either answers nothing.
	g.Subject = user.Subject
	var set tokenSet
	err = run2(func() (err error) { set, err = t.issue(ctx, g, user, x.requestedType); return err },
		func() error { return t.identities.PutIdentity(ctx, user, t.now().Add(identityLifetime(t.s))) })
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return tokenSet{}, e
		}
		return tokenSet{}, internalError(err)
	}
	t.log.InfoContext(ctx, "token exchanged", "connector", c.ID, "client_id", client.ID, "issued_token_type", x.requestedType, "request_id", RequestID(ctx))
	return set, nil
}

// subjectRefused logs why connector refused a subject token (never the
// token) and answers the client without the reason.
func (t exchange) subjectRefused(ctx context.Context, connector string, err error) *Error {
	client := t.client
	t.log.InfoContext(ctx, "token exchange: subject token refused", "connector", connector, "client_id", client.ID, "error", err, "request_id", RequestID(ctx))
	return errorf(ErrCodeSubjectToken, "the subject token is not valid at connector "+connector)
}

// scopes are the scopes of an upstream token exchange: scope as
// asked, openid alone when left out (RFC 6749 §3.3's pre-defined
// default), kept as at /authorize (understood scopes only; an audience
// scope needs the peer's trust) but without offline_access: no refresh
// token is issued. An ID token needs openid.
func (t exchange) scopes(ctx context.Context) ([]string, *Error) {
	client, x := t.client, t.x
	requested := x.scopes
	if !x.scopeGiven {
		requested = []string{ScopeOpenID}
	}
	for _, peer := range peerAudiences(requested) {
		switch ok, err := trustsPeer(ctx, t.clients, peer, client.ID); {
		case err != nil:
			return nil, internalError(err)
		case !ok:
			return nil, errorf(ErrCodeInvalidScope, errUntrustedPeer)
		}
	}
	scopes := slices.DeleteFunc(grantedScopes(requested), func(s string) bool { return s == ScopeOfflineAccess })
	if x.requestedType == TokenTypeIDToken && !slices.Contains(scopes, ScopeOpenID) {
		return nil, errorf(ErrCodeInvalidScope, "an ID token needs the openid scope")
	}
	return scopes, nil
}

// audience sets the audience of the issued token from the
// audience and resource parameters (RFC 8693 §2.1, RFC 8707): for an
// access token each one of Client.AllowedAudiences or a resource server
// that allows the client, as for client credentials; for an ID token the audience is a client id, the client's
// own or one whose trustedPeers list the client (Dex's cross-client
// trust), and resource has no meaning. Else invalid_target (§2.2.2).
func (t exchange) audience(ctx context.Context, g *grant) *Error {
	client, x := t.client, t.x
	if x.requestedType == TokenTypeAccessToken {
		aud, e := t.apis().serviceTargets(client, append(slices.Clone(x.resource), x.audience...))
		g.Audience = aud
		return e
	}
	if len(x.resource) > 0 {
		return errorf(ErrCodeInvalidTarget, "an ID token is for a client: use audience, not resource")
	}
	if len(x.audience) == 0 || x.audience[0] == client.ID {
		return nil
	}
	switch ok, err := trustsPeer(ctx, t.clients, x.audience[0], client.ID); {
	case err != nil:
		return internalError(err)
	case !ok:
		return errorf(ErrCodeInvalidTarget, "the audience is not a client that trusts this client (trustedPeers)")
	}
	g.IDTokenAudience = []string{x.audience[0]}
	return nil
}

// issue signs the one token a token exchange answers with: an
// RFC 9068 access token, or an ID token (in access_token, with token_type
// N_A: it is not an access token, RFC 8693 §2.2.1). Nothing is stored.
func (t exchange) issue(ctx context.Context, g grant, user User, requested string) (tokenSet, error) {
	set := tokenSet{IssuedTokenType: requested, TokenType: "Bearer", Scope: strings.Join(g.Scopes, " "),
		ExpiresIn: int64(t.expiry(g, t.now()).Sub(t.now()) / time.Second)}
	var err error
	if requested == TokenTypeIDToken {
		set.TokenType = tokenTypeNA
		set.AccessToken, err = t.mintIDToken(ctx, g, user, "", "")
	} else {
		set.AccessToken, err = t.mintAccessToken(ctx, g)
		set.ExpiresIn = int64(t.accessExpiry(g, t.accessAudience(g), t.now()).Sub(t.now()) / time.Second)
	}
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	return set, nil
}
