package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// ResourceServer is one entry of resourceServers (ours: Dex has no
// concept of it): an API access tokens may be issued for, named by the
// resource parameter (RFC 8707). See oidc.ResourceServer.
type ResourceServer struct {
	// ID is the resource indicator, an absolute URI without fragment.
	ID string `yaml:"id"`
	// Name is shown on the consent page; default the id.
	Name   string          `yaml:"name"`
	Scopes []ResourceScope `yaml:"scopes"`
	// AllowedClients are the client ids that may ask for it; none: no
	// client may.
	AllowedClients []string `yaml:"allowedClients"`
	// IntrospectionClients are the confidential clients (the API's own
	// credentials, a static or registered client) that may introspect
	// the tokens for it.
	IntrospectionClients []string `yaml:"introspectionClients"`
	// AccessTokenTTL is the life of its access tokens; default
	// expiry.idTokens.
	AccessTokenTTL time.Duration `yaml:"accessTokenTTL"`
	// SigningAlg is the JWS algorithm of its access tokens (RS256 or
	// ES256); default the access tokens' (ES256 when the signer has it).
	SigningAlg string `yaml:"signingAlg"`
}

// ResourceScope is one scope of a resource server.
type ResourceScope struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}

// OIDC returns the core's resource server.
func (r ResourceServer) OIDC() oidc.ResourceServer {
	out := oidc.ResourceServer{ID: r.ID, Name: r.Name, AllowedClients: r.AllowedClients,
		IntrospectionClients: r.IntrospectionClients, AccessTokenTTL: r.AccessTokenTTL, SigningAlg: r.SigningAlg}
	for _, s := range r.Scopes {
		out.Scopes = append(out.Scopes, oidc.APIScope{Name: s.Name, Description: s.Description})
	}
	return out
}

// validateResourceServers checks resourceServers: ids are absolute URIs
// without fragment (RFC 8707 §2), once each, neither the provider's own
// URLs nor a static client's id; scopes are scope tokens (RFC 6749 §3.3),
// once each, never an OpenID scope; allowedClients and
// introspectionClients are listed once each (checkClientRefs); the
// algorithm is RS256, ES256 or PS256 (the decoder refuses a lifetime that is not
// positive).
func (v validator) validateResourceServers(c *Config) {
	for i, r := range c.ResourceServers {
		p := fmt.Sprintf("resourceServers[%d]", i)
		u, err := url.Parse(r.ID)
		switch {
		case r.ID == "":
			v.fail(p+".id", "is required: the resource indicator, such as https://api.example.com")
		case err != nil || !u.IsAbs() || strings.Contains(r.ID, "#") || u.Opaque == "" && u.Host == "":
			v.fail(p+".id", "%q is not an absolute URI without fragment (RFC 8707 §2), such as https://api.example.com", r.ID)
		case slices.IndexFunc(c.ResourceServers, func(o ResourceServer) bool { return o.ID == r.ID }) < i:
			v.fail(p+".id", "duplicate resource server %q", r.ID)
		case slices.ContainsFunc(c.StaticClients, func(o Client) bool { return o.ID == r.ID }):
			v.fail(p+".id", "%q is a client's id: a token with it as audience could pass for that client's ID token", r.ID)
		case c.Issuer != "" && (r.ID == c.Issuer || strings.HasPrefix(r.ID, c.Issuer+"/")):
			v.fail(p+".id", "%q is the provider's own URL: name the API the token is for", r.ID)
		}
		for j, s := range r.Scopes {
			sp := fmt.Sprintf("%s.scopes[%d].name", p, j)
			switch {
			case !isScopeToken(s.Name):
				v.fail(sp, "%q is not a scope (printable ASCII without spaces, quotes or backslashes: RFC 6749 §3.3)", s.Name)
			case oidc.IsUserScope(s.Name):
				v.fail(sp, "%q is an OpenID scope: an API's scopes are its own", s.Name)
			case slices.IndexFunc(r.Scopes, func(o ResourceScope) bool { return o.Name == s.Name }) < j:
				v.fail(sp, "duplicate scope %q", s.Name)
			}
		}
		v.checkClientRefs(p+".allowedClients", r.AllowedClients, c)
		v.checkClientRefs(p+".introspectionClients", r.IntrospectionClients, c)
		if r.SigningAlg != "" && !slices.Contains(oidc.SigningAlgorithms, r.SigningAlg) {
			v.fail(p+".signingAlg", "%q: must be one of %s", r.SigningAlg, strings.Join(oidc.SigningAlgorithms, ", "))
		}
	}
}

// checkClientRefs checks a list of client ids: once each, and for
// introspection never a public static client (introspection needs a
// confidential one). An id that is no static client's may be a stored
// client's (oidcctl clients, registration): it is looked up when used.
func (v validator) checkClientRefs(p string, ids []string, c *Config) {
	for j, id := range ids {
		jp := fmt.Sprintf("%s[%d]", p, j)
		k := slices.IndexFunc(c.StaticClients, func(o Client) bool { return o.ID == id })
		switch {
		case slices.Index(ids, id) < j:
			v.fail(jp, "duplicate client %q", id)
		case k >= 0 && strings.HasSuffix(p, "introspectionClients") && c.StaticClients[k].Public:
			v.fail(jp, "%q is a public client: introspection needs a confidential client", id)
		}
	}
}
