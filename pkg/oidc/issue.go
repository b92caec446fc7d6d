package oidc

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// issue prepares the answer to the client: a code, an access token, an ID
// token, or a combination (OpenID Connect Core §3.3.2.5). Tokens are signed
// first; then one write completes the pending request and stores the code
// (or, for a silent answer from the session, stores the code alone).
// Completing the request is the single-use gate, so a failure leaves
// nothing half-issued and a double submission yields one answer.
//
// fed is the login through a callback connector (nil for the password
// database); the code keeps it sealed under the code, for the tokens and
// the refresh family the code starts.
func (a *Authorize) issue(ctx context.Context, req AuthRequest, fed *federated) (authResponse, error) {
	if req.DeviceRequestID != "" && a.device != nil {
		return a.device.approve(ctx, req, fed)
	}
	params := url.Values{}
	var stored *AuthCode
	if strings.HasPrefix(req.ResponseType, "code") {
		code, err := newSecret(a.rand)
		if err != nil {
			return authResponse{}, err
		}
		params.Set("code", code)
		sealed, err := sealFederated(a.rand, code, fed)
		if err != nil {
			return authResponse{}, err
		}
		stored = &AuthCode{
			ConnectorData:       sealed,
			ID:                  HashSecret(code),
			ClientID:            req.ClientID,
			RedirectURI:         req.RedirectURI,
			Subject:             req.Subject,
			Scopes:              req.Scopes,
			Nonce:               req.Nonce,
			AuthTime:            req.AuthTime,
			AMR:                 req.AMR,
			CodeChallenge:       req.CodeChallenge,
			CodeChallengeMethod: req.CodeChallengeMethod,
			Claims:              req.Claims,
			Resources:           req.Resources,
			DPoPJKT:             req.DPoPJKT,
			SID:                 req.SID,
			Expiry:              a.now().Add(a.s.AuthCodeLifetime),
		}
	}
	if err := a.frontChannelTokens(ctx, req, fed, params); err != nil {
		return authResponse{}, err
	}
	switch {
	case req.ID != "":
		if err := a.authRequests.CompleteAuthRequest(ctx, req.ID, req.Version, stored); err != nil {
			return authResponse{}, err
		}
	case stored != nil:
		if err := a.codes.CreateCode(ctx, *stored); err != nil {
			return authResponse{}, err
		}
	}
	return authResponse{redirectURI: req.RedirectURI, mode: req.ResponseMode, state: req.State, params: params}, nil
}

// issueError explains a failure of issue or of the writes beside it.
func issueError(req AuthRequest, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if req.ID != "" {
		return pendingError(req, err)
	}
	return frontChannelError(req, internalError(err))
}

// frontChannelTokens adds the access token and ID token that implicit and
// hybrid response types return from the authorization endpoint. The ID
// token carries at_hash and c_hash of the very token and code it travels
// with (OpenID Connect Core §3.2.2.10, §3.3.2.11).
func (a *Authorize) frontChannelTokens(ctx context.Context, req AuthRequest, fed *federated, params url.Values) error {
	parts := strings.Fields(req.ResponseType)
	wantToken, wantID := slices.Contains(parts, "token"), slices.Contains(parts, "id_token")
	if !wantToken && !wantID {
		return nil
	}
	g := grant{
		ClientID: req.ClientID, Subject: req.Subject, Scopes: req.Scopes,
		Nonce: req.Nonce, AuthTime: req.AuthTime, AMR: req.AMR, Claims: req.Claims, Resources: req.Resources, SID: req.SID,
	}
	if wantToken {
		at, err := a.mintAccessToken(ctx, g)
		if err != nil {
			return err
		}
		params.Set("access_token", at)
		params.Set("token_type", "Bearer")
		now := a.now()
		params.Set("expires_in", strconv.FormatInt(int64(a.accessExpiry(g, a.accessAudience(g), now).Sub(now)/time.Second), 10))
		params.Set("scope", strings.Join(a.apis().tokenScopes(g.Scopes, g.Resources), " "))
	}
	if wantID {
		user, err := userOf(ctx, a.users, req.Subject, fed)
		if err != nil {
			return err
		}
		client, err := a.clients.Client(ctx, req.ClientID)
		if err != nil {
			return err
		}
		g.IDTokenAlg = client.IDTokenSigningAlg
		idt, err := a.mintIDToken(ctx, g, user, params.Get("access_token"), params.Get("code"))
		if err != nil {
			return err
		}
		params.Set("id_token", idt)
	}
	return nil
}
