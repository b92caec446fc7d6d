package oidc

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// wrongCredentials is the one answer to a name or password that does not
// sign in: it never tells which accounts exist.
const wrongCredentials = "invalid username or password"

// passwordGrant is the resource owner password credentials grant
// (RFC 6749 §4.3) against the password database, Dex's
// oauth2.passwordConnector: local, for CLIs that cannot open a browser.
// RFC 9700 §2.4: it MUST NOT be used. It is off unless configured, and the
// dispatcher lets a client use it only when its Client.GrantTypes lists it.
//
// It runs as the login form does (login.go's serveLogin): the scope is
// checked first; the typed name is resolved to an account; the attempt
// reserves its slots on the login throttle's account and address counters
// (there is no pending login, so no form counter), and only an attempt
// within every limit has its password compared. A right password gives its
// slots back. Every refusal of the credentials is one generic
// invalid_grant; a throttled attempt is invalid_grant with status 429.
func (t *Token) passwordGrant(ctx context.Context, req tokenRequest) (tokenSet, error) {
	login, password := req.params.Get("username"), req.params.Get("password")
	if login == "" || password == "" {
		return tokenSet{}, errorf(ErrCodeInvalidRequest, "username and password are required")
	}
	if !connectorAllowed(req.client, ConnectorLocal) {
		t.log.WarnContext(ctx, "password grant refused: the client's allowedConnectors exclude local",
			"client_id", req.client.ID, "request_id", RequestID(ctx))
		return tokenSet{}, errorf(ErrCodeUnauthorizedClient, "no connector allowed for this client")
	}
	scopes, e := passwordScopes(ctx, t.clients, req)
	if e != nil {
		return tokenSet{}, e
	}
	if len(login) > maxParamLength || len(password) > maxPasswordLength {
		return tokenSet{}, errorf(ErrCodeInvalidGrant, wrongCredentials)
	}
	user, found, err := t.users.byLogin(ctx, login)
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	counters := t.throttle.accountAttempt(req.r, accountKey(user, found, login))
	switch v, err := t.throttle.reserve(ctx, counters); {
	case err != nil:
		return tokenSet{}, internalError(err)
	case v != allowed:
		t.log.WarnContext(ctx, "password grant throttled", "client_id", req.client.ID, "request_id", RequestID(ctx))
		return tokenSet{}, &Error{Code: ErrCodeInvalidGrant, Description: "too many failed sign-in attempts; wait a few minutes and try again", Status: http.StatusTooManyRequests}
	}
	if !passwordMatches(user, found, password) {
		t.log.InfoContext(ctx, "wrong password (password grant)", "client_id", req.client.ID, "request_id", RequestID(ctx))
		return tokenSet{}, errorf(ErrCodeInvalidGrant, wrongCredentials)
	}
	// The right password gives its slots back beside the signing.
	var set tokenSet
	err = run2(func() (err error) { set, err = t.passwordTokens(ctx, req.client, scopes, user, req.jkt); return err },
		func() error { t.throttle.release(ctx, counters, false); return nil })
	return set, err
}

// passwordScopes checks the scope of a password grant request by the
// rules of /authorize: openid is required (as Dex requires it here), an
// audience scope must name a client that trusts this one, and only
// understood scopes are kept. (Whether offline_access yields a refresh
// token is newGrant's decision, as for the code grant.)
func passwordScopes(ctx context.Context, clients ClientStore, req tokenRequest) ([]string, *Error) {
	scopes := strings.Fields(req.params.Get("scope"))
	if !slices.Contains(scopes, ScopeOpenID) {
		return nil, errorf(ErrCodeInvalidScope, "scope must contain openid")
	}
	for _, peer := range peerAudiences(scopes) {
		switch ok, err := trustsPeer(ctx, clients, peer, req.client.ID); {
		case err != nil:
			return nil, internalError(err)
		case !ok:
			return nil, errorf(ErrCodeInvalidScope, errUntrustedPeer)
		}
	}
	return grantedScopes(scopes), nil
}

// passwordTokens signs the tokens of a password login of user and, when a
// refresh token is issued (offline_access, the refresh_token grant
// enabled), stores its family after signing (DESIGN "Nothing lost").
// Without a refresh token no grant is stored: the access token names none.
func (t *Token) passwordTokens(ctx context.Context, client Client, scopes []string, user User, jkt string) (tokenSet, error) {
	g := grant{ClientID: client.ID, Subject: user.Subject, Scopes: scopes, AuthTime: t.now(), AMR: []string{amrPassword},
		IDTokenAlg: client.IDTokenSigningAlg, JKT: jkt}
	family, refreshToken, err := t.newGrant(g, client, nil)
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	if refreshToken != "" {
		g.GrantID = family.ID
	}
	set, err := t.mintTokens(ctx, g, user)
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	if refreshToken == "" {
		return set, nil
	}
	wctx, cancel := detach(ctx)
	defer cancel()
	if err := t.refresh.CreateRefreshGrant(wctx, *family); err != nil {
		return tokenSet{}, internalError(err)
	}
	set.RefreshToken = refreshToken
	return set, nil
}
