package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// refreshTokenGrant redeems a refresh token (RFC 6749 §6) with rotation and
// reuse detection (RFC 9700 §4.14.2). Every failure is invalid_grant.
//
// One read (the family), the signatures, then one conditional write (the
// rotation): signing first means a failure leaves the presented token
// valid, and the conditional write means concurrent refreshes with one token
// rotate it once; the losers find their token is now the previous one and,
// within the reuse interval, get the same successor.
func (t *Token) refreshTokenGrant(ctx context.Context, req tokenRequest) (tokenSet, error) {
	raw := req.params.Get("refresh_token")
	if raw == "" {
		return tokenSet{}, errorf(ErrCodeInvalidRequest, "refresh_token is missing")
	}
	family, ok := refreshFamily(raw)
	if !ok {
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the refresh token is invalid")
	}
	g, err := t.refresh.RefreshGrant(ctx, HashSecret(family))
	switch {
	case isNotFound(err):
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the refresh token is invalid or expired")
	case err != nil:
		return tokenSet{}, internalError(err)
	case g.Revoked:
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the refresh token was revoked")
	case g.ClientID != req.client.ID:
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the refresh token was issued to another client")
	case g.TokenHash == "":
		// A grant without refresh tokens; no token of it can be genuine.
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the refresh token is invalid")
	case g.DPoPJKT != "" && g.DPoPJKT != req.jkt:
		// RFC 9449 §5: a bound refresh token needs a proof of its key.
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the refresh token is bound to another DPoP key")
	}
	now := t.now()
	if !now.Before(t.s.RefreshTokens.expiry(g.CreatedAt, g.LastUsed)) {
		return tokenSet{}, errorf(ErrCodeInvalidGrant, "the refresh token expired")
	}
	state := t.classify(raw, g, now)
	if state == tokenReused {
		return tokenSet{}, t.reuseDetected(ctx, g, req.client.ID)
	}

	scopes := g.Scopes
	if s := req.params.Get("scope"); s != "" {
		// RFC 6749 §6: the scope may narrow, never widen, the grant.
		scopes = strings.Fields(s)
		for _, sc := range scopes {
			if !slices.Contains(g.Scopes, sc) {
				return tokenSet{}, errorf(ErrCodeInvalidScope, "the requested scope exceeds the original grant")
			}
		}
	}
	resources, e := t.apis().narrowResources(req.client, g.Resources, req.params["resource"])
	if e != nil {
		return tokenSet{}, e
	}
	user, g, fed, err := t.refreshedUser(ctx, family, g, state == tokenCurrent)
	if err != nil {
		return tokenSet{}, err
	}
	// OpenID Connect Core §12.2: same sub and auth_time, no nonce.
	var set tokenSet
	err = t.besides(ctx, "keeping the connector's user", func() error { return t.keepIdentity(ctx, fed) }, func() (err error) {
		set, err = t.mintTokens(ctx, grant{
			ClientID: g.ClientID, Subject: g.Subject, Scopes: scopes,
			AuthTime: g.AuthTime, AMR: g.AMR, Claims: g.Claims, GrantID: g.ID, Resources: resources, SID: g.SID,
			IDTokenAlg: req.client.IDTokenSigningAlg, OmitIDToken: req.client.OmitRefreshIDToken, JKT: req.jkt,
		}, user)
		return err
	})
	if err != nil {
		return tokenSet{}, internalError(err)
	}
	successor, err := t.rotate(ctx, raw, g, now, req.client)
	if err != nil {
		return tokenSet{}, err
	}
	set.RefreshToken = successor
	return set, nil
}

type tokenState int

const (
	tokenCurrent  tokenState = iota
	tokenPrevious            // rotated within the reuse interval
	tokenReused              // rotated earlier: a copy exists elsewhere
)

// classify places a token of family g. Hashes are compared in constant time.
func (t *Token) classify(raw string, g RefreshGrant, now time.Time) tokenState {
	switch {
	case secretMatches(raw, g.TokenHash):
		return tokenCurrent
	case g.PreviousHash != "" && secretMatches(raw, g.PreviousHash) && now.Before(g.RotatedAt.Add(t.s.RefreshTokens.ReuseInterval)):
		return tokenPrevious
	}
	return tokenReused
}

// rotate returns the token the client should use next, storing the rotation.
//
// Public clients are always rotated, whatever DisableRotation says: their
// refresh tokens are not sender-constrained (RFC 9700 §4.14.2). FAPI 2.0
// clients never are (noRefreshRotation).
func (t *Token) rotate(ctx context.Context, raw string, g RefreshGrant, now time.Time, client Client) (string, error) {
	disableRotation := (t.s.RefreshTokens.DisableRotation || noRefreshRotation(client)) && !client.Public
	for attempt := 0; attempt < 3; attempt++ {
		state := t.classify(raw, g, now)
		switch {
		case state == tokenReused:
			return "", t.reuseDetected(ctx, g, g.ClientID)
		case state == tokenPrevious:
			// A retry or a parallel request: the same successor again,
			// without a write.
			successor, err := openSuccessor(raw, g.Successor)
			if err != nil {
				return "", errorf(ErrCodeInvalidGrant, "the refresh token was already used")
			}
			return successor, nil
		}
		next := g
		next.LastUsed = now
		next.Expiry = t.s.RefreshTokens.expiry(g.CreatedAt, now)
		successor := raw
		if !disableRotation {
			var err error
			if successor, err = newRefreshToken(t.rand, strings.SplitN(raw, ".", 2)[0]); err != nil {
				return "", internalError(err)
			}
			sealed, err := sealSuccessor(t.rand, raw, successor)
			if err != nil {
				return "", internalError(err)
			}
			next.PreviousHash, next.TokenHash, next.Successor = g.TokenHash, HashSecret(successor), sealed
			next.RotatedAt = now
			next.Generation++
		}
		wctx, cancel := detach(ctx)
		err := t.refresh.UpdateRefreshGrant(wctx, next)
		cancel()
		switch {
		case err == nil:
			return successor, nil
		case errors.Is(err, ErrConflict) && disableRotation:
			// Someone else recorded the use; the token is unchanged.
			return raw, nil
		case errors.Is(err, ErrConflict):
			if g, err = t.refresh.RefreshGrant(ctx, g.ID); err != nil {
				if isNotFound(err) {
					return "", errorf(ErrCodeInvalidGrant, "the refresh token is invalid or expired")
				}
				return "", internalError(err)
			}
			if g.Revoked {
				return "", errorf(ErrCodeInvalidGrant, "the refresh token was revoked")
			}
		case isNotFound(err):
			return "", errorf(ErrCodeInvalidGrant, "the refresh token is invalid or expired")
		default:
			return "", internalError(err)
		}
	}
	return "", internalError(errors.New("refresh rotation: too many concurrent updates"))
}

// reuseDetected revokes the whole family: a rotated token came back, so
// both the client and an attacker may hold tokens of it. The current token
// stops working too, and access tokens of the family fail at userinfo.
func (t *Token) reuseDetected(ctx context.Context, g RefreshGrant, clientID string) error {
	t.log.WarnContext(ctx, "refresh token reuse detected: family revoked",
		"client_id", clientID, "subject", g.Subject, "generation", g.Generation, "request_id", RequestID(ctx))
	t.securityEvent(ctx, EventRefreshTokenReuse)
	wctx, cancel := detach(ctx)
	defer cancel()
	if err := t.refresh.RevokeRefreshGrant(wctx, g.ID, t.now().Add(t.s.maxAccessTokenLifetime())); err != nil && !isNotFound(err) {
		return internalError(err)
	}
	return errorf(ErrCodeInvalidGrant, "the refresh token was already used; the grant is revoked")
}

// refreshedUser is the user a refresh of family g describes: the
// password database's user now, or the connector's word kept with the
// grant (federated.go), asked of the upstream again when the presented
// token is the current one (a retry within the reuse interval is not:
// the upstream was asked, and may have rotated what it was asked with).
// The grant returned carries the new sealed copy, for the rotation to
// store.
func (t *Token) refreshedUser(ctx context.Context, family string, g RefreshGrant, current bool) (User, RefreshGrant, *federated, error) {
	fed, err := openFederated(family, g.ConnectorData)
	if err != nil {
		return User{}, g, nil, internalError(err)
	}
	if fed == nil {
		user, err := t.users.User(ctx, g.Subject)
		switch {
		case isNotFound(err) || (err == nil && user.Disabled):
			return User{}, g, nil, errorf(ErrCodeInvalidGrant, "the user no longer exists or is disabled")
		case err != nil:
			return User{}, g, nil, internalError(err)
		}
		return user, g, nil, nil
	}
	c, ok := t.connectors.byID(fed.User.ConnectorID)
	if !ok {
		return User{}, g, nil, errorf(ErrCodeInvalidGrant, "the user's connector is no longer configured")
	}
	if rc, can := c.Callback.(RefreshConnector); can && c.UpstreamRefresh && current && len(fed.Data) > 0 {
		if fed, err = t.askUpstream(ctx, c, rc, g, fed); err != nil {
			return User{}, g, nil, err
		}
		if g.ConnectorData, err = sealFederated(t.rand, family, fed); err != nil {
			return User{}, g, nil, internalError(err)
		}
	}
	return fed.User, g, fed, nil
}

// askUpstream asks connector c about the user of grant g again: groups
// and names come out current, and data the upstream rotated replaces
// the old. An upstream that no longer accepts the user ends the family
// (invalid_grant).
func (t *Token) askUpstream(ctx context.Context, c Connector, rc RefreshConnector, g RefreshGrant, fed *federated) (*federated, error) {
	id, err := rc.Refresh(ctx, ConnectorScopes{OfflineAccess: true, Groups: slices.Contains(g.Scopes, ScopeGroups)}, identityOf(fed.User, fed.Data))
	if err == nil && (!validUserID(id.UserID) || t.users.identityUser(c.ID, id).Subject != fed.User.Subject) {
		err = fmt.Errorf("%w: the upstream answered for another user", ErrUserGone)
	}
	switch {
	case errors.Is(err, ErrUserGone):
		t.log.InfoContext(ctx, "upstream no longer accepts the user: grant revoked", "connector", c.ID, "client_id", g.ClientID, "request_id", RequestID(ctx))
		wctx, cancel := detach(ctx)
		defer cancel()
		if err := t.refresh.RevokeRefreshGrant(wctx, g.ID, t.now().Add(t.s.maxAccessTokenLifetime())); err != nil && !isNotFound(err) {
			return nil, internalError(err)
		}
		return nil, errorf(ErrCodeInvalidGrant, "the upstream identity provider no longer accepts the user; the grant is revoked")
	case err != nil:
		t.log.WarnContext(ctx, "upstream refresh failed", "connector", c.ID, "error", err, "request_id", RequestID(ctx))
		if !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: upstream refresh: %w", ErrUnavailable, err)
		}
		return nil, internalError(err)
	}
	return &federated{User: t.users.identityUser(c.ID, id), Data: id.ConnectorData}, nil
}

// keepIdentity records the connector's user of a refresh as the latest
// word on them (userinfo reads it), which also keeps the record as long
// as the family lives. The password database's users (fed nil) need
// nothing.
func (t *Token) keepIdentity(ctx context.Context, fed *federated) error {
	if fed == nil {
		return nil
	}
	return t.identities.PutIdentity(ctx, fed.User, t.now().Add(identityLifetime(t.s)))
}
