package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// The client credentials grant (RFC 6749 §4.4): staticClients[].grantTypes
// listing client_credentials (a confidential client only; the grant is on
// when a client lists it), and the client's allowedScopes and
// allowedAudiences, which only that grant reads.

// logsIn reports whether a client may end a login at the token endpoint
// (authorization_code among its grants): only such a client needs
// redirect URIs. A client whose grantTypes list only client_credentials
// acts for itself and never sends a browser anywhere.
func logsIn(c Client) bool {
	return len(c.GrantTypes) == 0 || slices.Contains(c.GrantTypes, oidc.GrantAuthorizationCode)
}

// validateClientCredentials checks a client's allowedScopes (scope tokens,
// RFC 6749 §3.3, once each, never openid nor a scope about users) and
// allowedAudiences (absolute URIs without fragment, RFC 8707 §2, once
// each, never a static client's id nor the provider's own URLs: a client
// credentials token is signed by the key that signs ID tokens, and a
// relying party that skips the typ header would take one with its client
// id as audience for an ID token). Either without client_credentials among
// the client's grantTypes has no effect: a warning says so.
func (v validator) validateClientCredentials(p string, cl Client, c *Config) {
	for j, s := range cl.AllowedScopes {
		sp := fmt.Sprintf("%s.allowedScopes[%d]", p, j)
		switch {
		case !isScopeToken(s):
			v.fail(sp, "%q is not a scope (printable ASCII without spaces, quotes or backslashes: RFC 6749 §3.3)", s)
		case oidc.IsUserScope(s):
			v.fail(sp, "%q is a scope about users: a client credentials token has no user (openid, profile, email, address, phone, groups, federated:id, offline_access and audience:server:client_id:… are refused)", s)
		case slices.Index(cl.AllowedScopes, s) < j:
			v.fail(sp, "duplicate scope %q", s)
		}
	}
	for j, a := range cl.AllowedAudiences {
		ap := fmt.Sprintf("%s.allowedAudiences[%d]", p, j)
		u, err := url.Parse(a)
		switch {
		case err != nil || !u.IsAbs() || u.Fragment != "" || u.Opaque == "" && u.Host == "":
			v.fail(ap, "%q is not an absolute URI without fragment (RFC 8707 §2), such as https://api.example.com", a)
		case slices.Index(cl.AllowedAudiences, a) < j:
			v.fail(ap, "duplicate audience %q", a)
		case slices.ContainsFunc(c.StaticClients, func(o Client) bool { return o.ID == a }):
			v.fail(ap, "%q is a client's id: a token with it as audience could pass for that client's ID token", a)
		case c.Issuer != "" && (a == c.Issuer || strings.HasPrefix(a, c.Issuer+"/")):
			v.fail(ap, "%q is the provider's own URL: name the API the token is for", a)
		}
	}
	cc, te := slices.Contains(cl.GrantTypes, oidc.GrantClientCredentials), slices.Contains(cl.GrantTypes, oidc.GrantTokenExchange)
	switch {
	case len(cl.AllowedScopes) > 0 && !cc:
		v.d.warn(p, "allowedScopes are read only by the client credentials grant, which this client's grantTypes do not list: they have no effect")
	case len(cl.AllowedAudiences) > 0 && !cc && !te:
		v.d.warn(p, "allowedAudiences are read only by the client credentials and token exchange grants, which this client's grantTypes do not list: they have no effect")
	}
}

// isScopeToken reports whether s is a scope-token (RFC 6749 §3.3):
// 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
