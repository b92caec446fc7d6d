package openid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// refreshData is the connector data: the upstream refresh token and the
// upstream subject it was issued for. It never leaves the process except
// sealed by the core.
type refreshData struct {
	RefreshToken string `json:"rt"`
	Subject      string `json:"sub"`
}

// Refresh implements oidc.RefreshConnector: the upstream refresh token is
// used (RFC 6749 §6), the identity recomputed from the new ID token
// and/or userinfo with the login's rules, and the rotated refresh token
// kept. Without a refresh token the identity is returned unchanged.
func (k *Connector) Refresh(ctx context.Context, s oidc.ConnectorScopes, id oidc.Identity) (oidc.Identity, error) {
	if len(id.ConnectorData) == 0 {
		return id, nil
	}
	var d refreshData
	if err := json.Unmarshal(id.ConnectorData, &d); err != nil {
		return id, fmt.Errorf("oidc connector: connector data: %w", err)
	}
	if d.RefreshToken == "" {
		return id, nil
	}
	ctx = k.withClient(ctx)
	m, err := k.disc.get(ctx)
	if err != nil {
		return id, err
	}
	expired := &oauth2.Token{RefreshToken: d.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
	tok, err := k.oauth2Config(m, k.redirectURI, nil).TokenSource(ctx, expired).Token()
	if err != nil {
		return id, refreshError(err)
	}
	var idt *gooidc.IDToken
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		if idt, err = m.verify(ctx, raw); err != nil {
			return id, err
		}
		// OpenID Connect Core §12.2: a refreshed ID token's sub MUST be
		// the original's.
		if idt.Subject != d.Subject {
			return id, fmt.Errorf("%w: the refreshed ID token is about another subject", oidc.ErrUserGone)
		}
	}
	fresh := id
	if idt != nil || k.getUserInfo {
		claims, err := k.claims(ctx, m, idt, tok, d.Subject)
		if err != nil {
			return id, err
		}
		if fresh, err = k.rules.identity(claims, k.emailScope, s.Groups); err != nil {
			var r *refusal
			if errors.As(err, &r) {
				return id, fmt.Errorf("%w: %s", oidc.ErrUserGone, r.reason)
			}
			return id, err
		}
		if fresh.UserID != id.UserID {
			return id, fmt.Errorf("%w: the upstream now names the user differently", oidc.ErrUserGone)
		}
	}
	d.RefreshToken = tok.RefreshToken // oauth2 keeps the old one when none is returned
	if fresh.ConnectorData, err = jsonMarshal(d); err != nil {
		return id, err
	}
	return fresh, nil
}

// refreshError classifies a failed refresh grant: invalid_grant (RFC 6749
// §5.2: the refresh token is invalid, expired or revoked), or a 400 or 401
// without an error code, means the user is gone; no answer or a 5xx is
// ErrUnavailable; anything else (invalid_client: our own configuration)
// is an error that does not end the user's grant.
func refreshError(err error) error {
	var re *oauth2.RetrieveError
	if connector.Unavailable(err) || !errors.As(err, &re) {
		return connector.Failed("the identity provider did not refresh the sign-in", err)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if re.ErrorCode == "invalid_grant" || (re.ErrorCode == "" && (status == http.StatusBadRequest || status == http.StatusUnauthorized)) {
		return fmt.Errorf("%w: upstream refresh answered %s", oidc.ErrUserGone, connector.RetrieveErrorText(re))
	}
	return fmt.Errorf("oidc connector: upstream refresh answered %s", connector.RetrieveErrorText(re))
}
