package oidc

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Resource servers: the deployment's own APIs, which access tokens may be
// issued for (RFC 8707 resource indicators). A client names one or more
// with the resource parameter, at the authorization endpoint and at the
// token endpoint; the access token's aud is exactly the resources named,
// and its scope only the API scopes of those resources that were asked
// for and approved (plus the OpenID scopes when the userinfo endpoint is
// itself one of the resources). Without resource, tokens are as before:
// for userinfo.

// ResourceServer is one API access tokens may be issued for.
type ResourceServer struct {
	// ID is the resource indicator: an absolute URI without fragment
	// (RFC 8707 §2), for example https://api.example.com. It is the
	// token's aud.
	ID string
	// Name is shown on the consent page.
	Name string
	// Scopes are the API's permissions, asked for by name in scope.
	Scopes []APIScope
	// AllowedClients are the client ids that may ask for tokens for it;
	// none: no client may.
	AllowedClients []string
	// IntrospectionClients are the confidential clients (the API's own
	// credentials) that may introspect the tokens whose aud includes ID,
	// besides the client each token was issued to (RFC 7662 §2.1).
	IntrospectionClients []string
	// AccessTokenTTL, when set, is the lifetime of its access tokens
	// instead of Settings.IDTokenLifetime; a token for several resources
	// lives as long as the shortest.
	AccessTokenTTL time.Duration
	// SigningAlg, when set, is the JWS algorithm of its access tokens
	// (RS256, ES256 or PS256; the signer must have a key of it), instead of the
	// default (ES256 when the signer has an ES256 key).
	SigningAlg string
}

// APIScope is one permission of a resource server.
type APIScope struct {
	Name        string
	Description string // shown on the consent page
}

// hasScope reports whether the resource server defines scope s.
func (rs ResourceServer) hasScope(s string) bool {
	return slices.ContainsFunc(rs.Scopes, func(sc APIScope) bool { return sc.Name == s })
}

// maxResources bounds the resource parameters of one request, so that one
// request cannot bloat a stored item or a token.
const maxResources = 10

// apis is what the grants ask of the resource servers: the configured
// ones and the userinfo endpoint's URL, which a client may name beside
// them.
type apis struct {
	servers  resourceServers
	userInfo string
}

// apis returns the deployment's resource servers.
func (b *base) apis() apis {
	return apis{servers: b.s.ResourceServers, userInfo: b.URL(PathUserInfo)}
}

// resourceServers are Settings.ResourceServers.
type resourceServers []ResourceServer

// byID returns the resource server id names.
func (r resourceServers) byID(id string) (ResourceServer, bool) {
	i := slices.IndexFunc(r, func(rs ResourceServer) bool { return rs.ID == id })
	if i < 0 {
		return ResourceServer{}, false
	}
	return r[i], true
}

// validResourceIndicator reports whether s is an absolute URI without
// fragment (RFC 8707 §2: "MUST be an absolute URI … MUST NOT include a
// fragment component").
func validResourceIndicator(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && !strings.Contains(s, "#") && (u.Opaque != "" || u.Host != "")
}

// validate checks the resource servers of s (Settings.complete).
func (r resourceServers) validate(issuer string) error {
	for i, rs := range r {
		switch {
		case !validResourceIndicator(rs.ID):
			return fmt.Errorf("oidc: resource server %q: the id must be an absolute URI without fragment (RFC 8707 §2)", rs.ID)
		case rs.ID == issuer || strings.HasPrefix(rs.ID, issuer+"/"):
			return fmt.Errorf("oidc: resource server %q: the id is the provider's own URL", rs.ID)
		case slices.IndexFunc(r, func(o ResourceServer) bool { return o.ID == rs.ID }) < i:
			return fmt.Errorf("oidc: resource server %q listed twice", rs.ID)
		case rs.SigningAlg != "" && !slices.Contains(SigningAlgorithms, rs.SigningAlg):
			return fmt.Errorf("oidc: resource server %q: unsupported signing algorithm %q", rs.ID, rs.SigningAlg)
		case rs.AccessTokenTTL < 0:
			return fmt.Errorf("oidc: resource server %q: negative access token lifetime", rs.ID)
		}
		for j, sc := range rs.Scopes {
			if sc.Name == "" || strings.ContainsAny(sc.Name, " \t\r\n") || IsUserScope(sc.Name) || slices.IndexFunc(rs.Scopes, func(o APIScope) bool { return o.Name == sc.Name }) < j {
				return fmt.Errorf("oidc: resource server %q: scope %q is empty, has spaces, is an OpenID scope or is listed twice", rs.ID, sc.Name)
			}
		}
	}
	return nil
}

// isAPIScope reports whether s is a scope of any resource server.
func (r resourceServers) isAPIScope(s string) bool {
	return slices.ContainsFunc(r, func(rs ResourceServer) bool { return rs.hasScope(s) })
}

// userTargets checks the resource parameters of a user's request (the
// authorization endpoint, a refresh): each a resource server the client is
// among the AllowedClients of, or the userinfo endpoint (which any client
// may name beside an API, to keep the OpenID scopes in the token). Once
// each, in request order. Else invalid_target (RFC 8707 §2).
func (p apis) userTargets(client Client, requested []string) ([]string, *Error) {
	return p.targets(client, requested, func(r string) bool { return r == p.userInfo })
}

// serviceTargets checks the resource and audience parameters of a client
// credentials or token exchange request: each a resource server that
// allows the client, or one of the client's Client.AllowedAudiences.
func (p apis) serviceTargets(client Client, requested []string) ([]string, *Error) {
	return p.targets(client, requested, func(r string) bool { return slices.Contains(client.AllowedAudiences, r) })
}

// targets checks requested resources; also are the ones allowed without
// being a resource server of the client's.
func (p apis) targets(client Client, requested []string, also func(string) bool) ([]string, *Error) {
	if len(requested) > maxResources {
		return nil, errorf(ErrCodeInvalidTarget, "too many resources")
	}
	var out []string
	alg := ""
	for _, r := range requested {
		if !validResourceIndicator(r) {
			return nil, errorf(ErrCodeInvalidTarget, "a resource must be an absolute URI without fragment (RFC 8707 §2)")
		}
		rs, ok := p.servers.byID(r)
		switch {
		case ok && slices.Contains(rs.AllowedClients, client.ID):
		case !ok && also(r):
			// Only what is not a resource server: one that is decides
			// itself whom it allows (AllowedClients).
		default:
			return nil, errorf(ErrCodeInvalidTarget, "the requested resource is unknown or not allowed for this client")
		}
		if rs.SigningAlg != "" && alg != "" && rs.SigningAlg != alg {
			return nil, errorf(ErrCodeInvalidTarget, "these resources take tokens of different signing algorithms: ask for one token for each")
		}
		if alg == "" {
			alg = rs.SigningAlg
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// requestScopes keeps the scopes of a user's request, in request order,
// once each: the understood OpenID scopes (grantedScopes) and the API
// scopes of the requested resources. A scope of a resource server that
// was not requested is invalid_scope: the token could not carry it.
// Other scopes are ignored (OpenID Connect Core §3.1.2.1).
func (p apis) requestScopes(requested, resources []string) ([]string, *Error) {
	rss := p.servers
	oidcScopes := grantedScopes(requested)
	var out []string
	for _, s := range requested {
		switch {
		case slices.Contains(out, s):
		case slices.Contains(oidcScopes, s):
			out = append(out, s)
		case slices.ContainsFunc(resources, func(r string) bool { rs, _ := rss.byID(r); return rs.hasScope(s) }):
			out = append(out, s)
		case rss.isAPIScope(s):
			return nil, errorf(ErrCodeInvalidScope, "a requested scope belongs to an API the request does not name in resource")
		}
	}
	return out, nil
}

// tokenScopes are the scopes an access token for resources carries:
// without resources, all of scopes; else each API scope of one of them,
// and the OpenID scopes only when the userinfo endpoint is one of them.
func (p apis) tokenScopes(scopes, resources []string) []string {
	if len(resources) == 0 {
		return scopes
	}
	rss := p.servers
	userInfo := slices.Contains(resources, p.userInfo)
	var out []string
	for _, s := range scopes {
		api := slices.ContainsFunc(resources, func(r string) bool { rs, _ := rss.byID(r); return rs.hasScope(s) })
		if api || (userInfo && !rss.isAPIScope(s)) {
			out = append(out, s)
		}
	}
	return out
}

// accessTokenPolicy is what the resource servers among aud ask of an
// access token: the shortest AccessTokenTTL (0: the default) and a
// SigningAlg ("" : the default). targets refused a set with two
// algorithms; of an older grant the first is taken.
func (p apis) accessTokenPolicy(aud []string) (time.Duration, string) {
	var ttl time.Duration
	alg := ""
	for _, a := range aud {
		rs, ok := p.servers.byID(a)
		if !ok {
			continue
		}
		if rs.AccessTokenTTL > 0 && (ttl == 0 || rs.AccessTokenTTL < ttl) {
			ttl = rs.AccessTokenTTL
		}
		if alg == "" {
			alg = rs.SigningAlg
		}
	}
	return ttl, alg
}

// maxAccessTokenLifetime is the longest any access token lives: how long
// a revocation must be remembered.
func (s Settings) maxAccessTokenLifetime() time.Duration {
	d := s.IDTokenLifetime
	for _, rs := range s.ResourceServers {
		d = max(d, rs.AccessTokenTTL)
	}
	return d
}

// introspects reports whether client may introspect an access token for
// aud as one of a resource server's IntrospectionClients.
func (p apis) introspects(client Client, aud []string) bool {
	return slices.ContainsFunc(aud, func(a string) bool {
		rs, ok := p.servers.byID(a)
		return ok && slices.Contains(rs.IntrospectionClients, client.ID)
	})
}

// narrowResources is the audience of a token endpoint request of a user's
// grant (a code, a refresh): RFC 8707 §2.2 lets the client name, with
// resource, a subset of the resources granted for a token meant for fewer
// of them, never one that was not granted (invalid_target); none: all
// granted. Each is checked again as at the authorization endpoint, so a
// resource server that no longer allows the client is refused.
func (p apis) narrowResources(client Client, granted, requested []string) ([]string, *Error) {
	if len(requested) == 0 {
		requested = granted
	}
	out, e := p.userTargets(client, requested)
	if e != nil {
		return nil, e
	}
	for _, r := range out {
		if !slices.Contains(granted, r) {
			return nil, errorf(ErrCodeInvalidTarget, "the requested resource was not granted (RFC 8707 §2.2)")
		}
	}
	return out, nil
}

// scopesFor keeps of scopes those a token for aud may carry: a scope of
// an API only when an API among aud defines it (two APIs may both have a
// "read": one's is not the other's), any other scope as it is.
func (p apis) scopesFor(scopes, aud []string) []string {
	var out []string
	for _, s := range scopes {
		ofAud := slices.ContainsFunc(aud, func(r string) bool { rs, _ := p.servers.byID(r); return rs.hasScope(s) })
		if ofAud || !p.servers.isAPIScope(s) {
			out = append(out, s)
		}
	}
	return out
}

// apiScopesOf lists the scopes of the resource servers among aud.
func (p apis) apiScopesOf(aud []string) []string {
	var out []string
	for _, a := range aud {
		rs, _ := p.servers.byID(a)
		for _, sc := range rs.Scopes {
			if !slices.Contains(out, sc.Name) {
				out = append(out, sc.Name)
			}
		}
	}
	return out
}
