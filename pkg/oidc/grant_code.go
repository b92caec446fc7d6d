package oidc

import (
	"context"
	"errors"
	"slices"
)

// authorizationCodeGrant redeems a code (RFC 6749 §4.1.3, RFC 7636 §4.6).
//
// Order matters (DESIGN "Nothing lost"): validate, sign, and only then
// consume the code. A failure before the response (signing throttled, a
// timeout) leaves the code redeemable; RedeemCode is the single-use gate, so
// of concurrent redemptions exactly one gets its tokens out and the others'
// signed tokens are discarded.
func (t *Token) authorizationCodeGrant(ctx context.Context, req tokenRequest) (tokenSet, error) {
	raw := req.params.Get("code")
	if raw == "" {
		return tokenSet{}, errorf(ErrCodeInvalidRequest, "code is missing")
	}
	if req.params.Get("redirect_uri") == "" {
		// Always sent at /authorize, so REQUIRED here (RFC 6749 §4.1.3).
		return tokenSet{}, errorf(ErrCodeInvalidRequest, "redirect_uri is missing")
	}
	code, err := t.redeemable(ctx, req, raw)
	if err != nil {
		return tokenSet{}, err
	}
	resources, e := t.apis().narrowResources(req.client, code.Resources, req.params["resource"])
	if e != nil {
		return tokenSet{}, e
	}
	fed, err := openFederated(raw, code.ConnectorData)
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	user, err := t.grantUser(ctx, code.Subject, fed)
	switch {
	case isNotFound(err) || (err == nil && user.Disabled):
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the user no longer exists")
	case err != nil:
		return tokenSet{}, internalError(err)
	}
	g := grant{
		ClientID: code.ClientID,
		Subject:  code.Subject,
		Scopes:   code.Scopes,
		Nonce:    code.Nonce,
		AuthTime: code.AuthTime,
		AMR:      code.AMR,
		Claims:   code.Claims,
		SID:      code.SID,
		// RFC 8707 §2.2: the resources of the authorization request, or
		// those of them named here.
		Resources: resources,
		// The client's algorithm now, not at authorization: a client
		// switched to ES256 gets it from its next token.
		IDTokenAlg: req.client.IDTokenSigningAlg,
		JKT:        req.jkt,
	}
	refresh, refreshToken, err := t.newGrant(g, req.client, fed)
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	g.GrantID, refresh.Resources = refresh.ID, code.Resources
	set, err := t.mintTokens(ctx, g, user)
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	set.RefreshToken = refreshToken
	// The response must go out once the code is consumed, even if the
	// client hangs up now; give the write its own deadline.
	wctx, cancel := detach(ctx)
	defer cancel()
	if err := t.codes.RedeemCode(wctx, code.ID, refresh); err != nil {
		if !errors.Is(err, ErrNotFound) {
			return tokenSet{}, internalError(err)
		}
		// Another redemption of this code won the race: a replay as much as
		// a late one, so it revokes what the winner got. The winner's
		// consuming write is complete, so this read sees its grant.
		consumed, err := t.codes.Code(wctx, code.ID)
		switch {
		case err == nil && consumed.Consumed:
			return tokenSet{}, t.replayed(wctx, consumed)
		case err != nil && !isNotFound(err):
			return tokenSet{}, internalError(err)
		}
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the code is invalid or expired")
	}
	return set, nil
}

// redeemable loads the code and checks it was issued to this client, for
// this redirect URI, is unused, and matches the PKCE verifier. A replay by
// the code's own client revokes what the code issued.
func (t *Token) redeemable(ctx context.Context, req tokenRequest, raw string) (AuthCode, error) {
	verifier := req.params.Get("code_verifier")
	if verifier != "" && !validCodeVerifier(verifier) {
		return AuthCode{}, errorf(ErrCodeInvalidRequest, "code_verifier is malformed")
	}
	code, err := t.codes.Code(ctx, HashSecret(raw))
	switch {
	case isNotFound(err):
		return AuthCode{}, errorf(ErrCodeInvalidGrant, "the code is invalid or expired")
	case err != nil:
		return AuthCode{}, internalError(err)
	case code.ClientID != req.client.ID:
		return AuthCode{}, errorf(ErrCodeInvalidGrant, "the code was issued to another client")
	case code.RedirectURI != req.params.Get("redirect_uri"):
		return AuthCode{}, errorf(ErrCodeInvalidGrant, "redirect_uri does not match the authorization request")
	case code.Consumed:
		return AuthCode{}, t.replayed(ctx, code)
	}
	switch {
	case code.CodeChallenge == "" && verifier != "":
		// RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
		return AuthCode{}, errorf(ErrCodeInvalidGrant, "code_verifier sent but no code_challenge was")
	case code.CodeChallenge != "" && verifier == "":
		return AuthCode{}, errorf(ErrCodeInvalidGrant, "code_verifier is missing")
	case code.CodeChallenge != "" && !verifyPKCE(verifier, code.CodeChallenge):
		return AuthCode{}, errorf(ErrCodeInvalidGrant, "code_verifier does not match the code_challenge")
	case code.DPoPJKT != "" && code.DPoPJKT != req.jkt:
		// RFC 9449 §10: the code is bound to the key dpop_jkt named.
		return AuthCode{}, errorf(ErrCodeInvalidGrant, "the DPoP proof's key does not match dpop_jkt")
	}
	return code, nil
}

// replayed answers a second redemption of a code by its own client: someone
// else may hold the tokens it issued. RFC 6749 §4.1.2: revoke them (the
// grant every code starts; access tokens name it, so userinfo and
// introspection refuse them too). A late replay and the loser of a
// concurrent redemption are treated alike.
func (t *Token) replayed(ctx context.Context, code AuthCode) error {
	t.log.WarnContext(ctx, "authorization code replayed: grant revoked", "client_id", code.ClientID, "request_id", RequestID(ctx))
	t.securityEvent(ctx, EventAuthorizationCodeReplay)
	if code.GrantID != "" {
		if err := t.refresh.RevokeRefreshGrant(ctx, code.GrantID, t.now().Add(t.s.maxAccessTokenLifetime())); err != nil && !isNotFound(err) {
			return internalError(err)
		}
	}
	return errorf(ErrCodeInvalidGrant, "the code was already used")
}

// newGrant starts the grant a redeemed code creates. Every code starts one,
// so that a replay can revoke what the code issued (its access tokens name
// the grant). It is a refresh token family, with the token returned, when
// the request asked for offline_access (approved on the consent page unless
// it is skipped) and the refresh_token grant is enabled, provider-wide and
// for client (its GrantTypes, when it lists any); otherwise no
// refresh token exists for it and it lives as long as its access tokens.
//
// fed, the login through a connector, is kept sealed under the family
// secret when the grant has refresh tokens.
func (t *Token) newGrant(g grant, client Client, fed *federated) (*RefreshGrant, string, error) {
	family, err := newSecret(t.rand)
	if err != nil {
		return nil, "", err
	}
	now := t.now()
	rg := &RefreshGrant{
		ID: HashSecret(family), ClientID: g.ClientID, Subject: g.Subject, Scopes: g.Scopes,
		AuthTime: g.AuthTime, AMR: g.AMR, Claims: g.Claims, SID: g.SID,
		// RFC 9449 §5: a public client's refresh tokens are bound to its
		// DPoP key; a confidential client's are bound by its credentials.
		DPoPJKT:   boundKey(client, g.JKT),
		RotatedAt: now, CreatedAt: now, LastUsed: now, Expiry: now.Add(t.s.maxAccessTokenLifetime()),
	}
	if !slices.Contains(g.Scopes, ScopeOfflineAccess) || !t.refreshAllowed(client) {
		return rg, "", nil
	}
	token, err := newRefreshToken(t.rand, family)
	if err != nil {
		return nil, "", err
	}
	rg.TokenHash, rg.Generation, rg.Expiry = HashSecret(token), 1, t.s.RefreshTokens.expiry(now, now)
	if rg.ConnectorData, err = sealFederated(t.rand, family, fed); err != nil {
		return nil, "", err
	}
	return rg, token, nil
}

// refreshAllowed reports whether client may hold refresh tokens: the
// refresh_token grant is enabled, and among the client's grantTypes when it
// lists any. (Not clientMayUse: that reads the grants table, which refers
// to the grants that call this.)
func (t *Token) refreshAllowed(client Client) bool {
	return slices.Contains(t.s.GrantTypes, GrantRefreshToken) &&
		(len(client.GrantTypes) == 0 || slices.Contains(client.GrantTypes, GrantRefreshToken))
}

// grantUser is the user a code describes: the connector's word kept with
// the code, while the connector is configured, or the password
// database's user now.
func (t *Token) grantUser(ctx context.Context, sub string, fed *federated) (User, error) {
	if fed == nil {
		return t.users.User(ctx, sub)
	}
	if _, ok := t.connectors.byID(fed.User.ConnectorID); !ok {
		return User{}, ErrNotFound
	}
	return fed.User, nil
}
