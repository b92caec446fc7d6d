package openid

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

var _ oidc.TokenIdentityConnector = (*Connector)(nil)

// TokenIdentity implements oidc.TokenIdentityConnector, Dex's token
// exchange (RFC 8693) of a token the upstream issued. An ID token is
// verified as at a login, but for the nonce, which belongs to a login
// this provider did not start: the signature by the upstream's published
// keys, iss, aud (this connector's clientID: an ID token the upstream
// issued to another client is refused), exp (OpenID Connect Core
// §3.1.3.7). An access
// token is opaque to a relying party: the upstream's userinfo endpoint
// (OpenID Connect Core §5.3) is asked with it, as Dex asks it, and a token
// the upstream refuses is refused; any of the upstream's clients' access
// tokens passes, as at the upstream's own userinfo. Either way Dex's
// rules (claim mappings, allowedGroups, hostedDomains, email
// verification) make the identity, exactly as at a login.
func (k *Connector) TokenIdentity(ctx context.Context, s oidc.ConnectorScopes, subjectTokenType, subjectToken string) (oidc.Identity, error) {
	ctx = k.withClient(ctx)
	m, err := k.disc.get(ctx)
	if err != nil {
		return oidc.Identity{}, err
	}
	claims := map[string]any{}
	switch subjectTokenType {
	case oidc.TokenTypeIDToken:
		idt, err := m.verify(ctx, subjectToken)
		if err != nil {
			return oidc.Identity{}, err
		}
		if err := idt.Claims(&claims); err != nil {
			return oidc.Identity{}, &oidc.UpstreamError{Reason: "the ID token's claims are malformed", Err: err}
		}
	case oidc.TokenTypeAccessToken:
		if m.UserInfoURL == "" {
			return oidc.Identity{}, &oidc.UpstreamError{Reason: "the identity provider has no userinfo endpoint to check an access token with"}
		}
		ui, err := m.provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: subjectToken, TokenType: "Bearer"}))
		if err != nil {
			return oidc.Identity{}, connector.Failed("the identity provider did not accept the access token", err)
		}
		if err := ui.Claims(&claims); err != nil {
			return oidc.Identity{}, &oidc.UpstreamError{Reason: "the identity provider's user information is malformed", Err: err}
		}
	default:
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "unsupported subject token type", Err: fmt.Errorf("type %q", connector.OneLine(subjectTokenType))}
	}
	return k.rules.identity(claims, k.emailScope, s.Groups)
}
