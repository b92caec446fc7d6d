package openid

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// HandleCallback implements oidc.CallbackConnector: the upstream's
// authorization response is checked (RFC 9207 iss, then its error), the
// code exchanged with the PKCE verifier, the ID token verified fully with
// its nonce (OpenID Connect Core §3.1.3.7), and Dex's rules applied.
func (k *Connector) HandleCallback(ctx context.Context, s oidc.ConnectorScopes, data []byte, r *http.Request) (oidc.Identity, error) {
	ctx = k.withClient(ctx)
	m, err := k.disc.get(ctx)
	if err != nil {
		return oidc.Identity{}, err
	}
	if err := k.checkIss(m, r); err != nil {
		return oidc.Identity{}, err
	}
	if err := connector.CallbackError(r, "the identity provider"); err != nil {
		return oidc.Identity{}, err
	}
	var d loginData
	if err := json.Unmarshal(data, &d); err != nil || d.Nonce == "" {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "this sign-in's saved state is not valid", Err: errors.New("connector data is not login data")}
	}
	code := r.FormValue("code")
	if code == "" {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "the identity provider sent no authorization code"}
	}
	var opts []oauth2.AuthCodeOption
	if d.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(d.Verifier))
	}
	tok, err := k.oauth2Config(m, d.Redirect, nil).Exchange(ctx, code, opts...)
	if err != nil {
		return oidc.Identity{}, connector.ExchangeError("the identity provider", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "the identity provider sent no ID token"}
	}
	idt, err := m.verify(ctx, raw)
	if err != nil {
		return oidc.Identity{}, err
	}
	// Core §3.1.3.7 step 11: the nonce MUST be the one this login sent.
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(d.Nonce)) != 1 {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "the ID token does not belong to this sign-in (nonce)"}
	}
	// Core §3.1.3.8: at_hash, when present, MUST match the access token.
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return oidc.Identity{}, &oidc.UpstreamError{Reason: "the ID token does not match the access token (at_hash)", Err: err}
		}
	}
	claims, err := k.claims(ctx, m, idt, tok, idt.Subject)
	if err != nil {
		return oidc.Identity{}, err
	}
	id, err := k.rules.identity(claims, k.emailScope, s.Groups)
	if err != nil {
		return oidc.Identity{}, err
	}
	if s.OfflineAccess && tok.RefreshToken != "" {
		if id.ConnectorData, err = jsonMarshal(refreshData{RefreshToken: tok.RefreshToken, Subject: idt.Subject}); err != nil {
			return oidc.Identity{}, err
		}
	}
	return id, nil
}

// checkIss applies RFC 9207 §2.4: an iss parameter MUST equal the
// issuer (simple string comparison), and MUST be present when the
// upstream advertises authorization_response_iss_parameter_supported.
// Error responses are checked too: a mix-up attacker can forge those.
func (k *Connector) checkIss(m *metadata, r *http.Request) error {
	iss := r.FormValue("iss")
	_, present := r.Form["iss"]
	switch {
	case present && iss != k.issuer:
		return &oidc.UpstreamError{Reason: "the answer came from another identity provider (iss)", Err: fmt.Errorf("iss %q", connector.OneLine(iss))}
	case !present && m.IssParameterSupported:
		return &oidc.UpstreamError{Reason: "the identity provider's answer lacks its iss parameter"}
	}
	return nil
}

// claims are the ID token's claims, with userinfo's over them when
// getUserInfo (Dex: userinfo takes priority). The userinfo sub MUST be sub,
// the ID token's (OpenID Connect Core §5.3.4).
func (k *Connector) claims(ctx context.Context, m *metadata, idt *gooidc.IDToken, tok *oauth2.Token, sub string) (map[string]any, error) {
	claims := map[string]any{}
	if idt != nil {
		if err := idt.Claims(&claims); err != nil {
			return nil, &oidc.UpstreamError{Reason: "the ID token's claims are malformed", Err: err}
		}
	}
	if !k.getUserInfo {
		return claims, nil
	}
	ui, err := m.provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken, TokenType: "Bearer"}))
	if err != nil {
		return nil, connector.Failed("the identity provider's user information could not be read", err)
	}
	if ui.Subject != sub {
		return nil, &oidc.UpstreamError{Reason: "the identity provider's user information is about another user"}
	}
	if err := ui.Claims(&claims); err != nil {
		return nil, &oidc.UpstreamError{Reason: "the identity provider's user information is malformed", Err: err}
	}
	return claims, nil
}

// jsonMarshal is json.Marshal with the package's error prefix.
func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("oidc connector: %w", err)
	}
	return b, nil
}
