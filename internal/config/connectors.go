package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Connectors, the password grant and what each client may use:
// oauth2.passwordConnector, connectors, staticClients[].grantTypes and
// staticClients[].allowedConnectors. The password database is the
// connector with Dex's id local (oidc.ConnectorLocal), when
// enablePasswordDB is true; the others are listed in connectors
// (connector.go).

// defaultGrantTypes are the grants enabled when oauth2.grantTypes is left
// out: oidc.DefaultGrantTypes, the password grant too when
// oauth2.passwordConnector names a connector, as Dex enables it, and the
// client credentials and token exchange grants when a static client lists
// them. A client may use any of these only when its grantTypes list it.
func defaultGrantTypes(c *Config) []string {
	out := slices.Clone(oidc.DefaultGrantTypes)
	if c.OAuth2.PasswordConnector != "" {
		out = append(out, oidc.GrantPassword)
	}
	for _, gt := range []string{oidc.GrantClientCredentials, oidc.GrantTokenExchange} {
		if slices.ContainsFunc(c.StaticClients, func(cl Client) bool { return slices.Contains(cl.GrantTypes, gt) }) {
			out = append(out, gt)
		}
	}
	if c.Extensions.Profile == oidc.ProfileFAPI2 {
		out = slices.DeleteFunc(out, func(g string) bool { return !slices.Contains(oidc.FAPI2GrantTypes, g) })
	}
	return out
}

// validateConnectors checks connectors, oauth2.passwordConnector with the
// password grant, and each client's grantTypes and allowedConnectors.
func (v validator) validateConnectors(c *Config) {
	v.validateConnectorList(c)
	v.validatePasswordConnector(c)
	ids := connectorIDs(c)
	for i, cl := range c.StaticClients {
		p := fmt.Sprintf("staticClients[%d]", i)
		v.validateClientGrants(p, cl, c.OAuth2.GrantTypes)
		v.validateAllowedConnectors(p, cl, ids)
		v.validateClientCredentials(p, cl, c)
	}
}

// connectorIDs are the ids of the connectors users may log in with, in
// login page order: the configured ones, then local when the password
// database is on (Dex appends it last).
func connectorIDs(c *Config) []string {
	var ids []string
	for _, cn := range c.Connectors {
		ids = append(ids, cn.ID)
	}
	if c.EnablePasswordDB {
		ids = append(ids, oidc.ConnectorLocal)
	}
	return ids
}

// validatePasswordConnector checks that the password grant is configured
// all together: passwordConnector names local, the password database is
// on, and oauth2.grantTypes lists password.
func (v validator) validatePasswordConnector(c *Config) {
	const p = "oauth2.passwordConnector"
	pc := c.OAuth2.PasswordConnector
	switch {
	case pc != "" && pc != oidc.ConnectorLocal:
		v.fail(p, "%q: the password grant checks passwords with %s, the password database, only", pc, oidc.ConnectorLocal)
	case pc != "" && !c.EnablePasswordDB:
		v.fail(p, "%s is the password database, which is off: set enablePasswordDB: true", pc)
	}
	i := slices.Index(c.OAuth2.GrantTypes, oidc.GrantPassword)
	switch {
	case i >= 0 && pc == "":
		v.fail(fmt.Sprintf("oauth2.grantTypes[%d]", i), "the password grant needs oauth2.passwordConnector: %s (and it is discouraged: RFC 9700 §2.4)", oidc.ConnectorLocal)
	case i < 0 && pc != "":
		v.fail("oauth2.grantTypes", "oauth2.passwordConnector is set but password is not listed: add password, or remove oauth2.passwordConnector")
	}
}

// validateClientGrants checks a client's grantTypes: known, once each, and
// enabled in oauth2.grantTypes. password, which no client gets without
// listing it, needs the local connector among the client's
// allowedConnectors.
func (v validator) validateClientGrants(p string, cl Client, enabled []string) {
	seen := map[string]bool{}
	for j, gt := range cl.GrantTypes {
		gp := fmt.Sprintf("%s.grantTypes[%d]", p, j)
		switch {
		case !slices.Contains(oidc.GrantTypes, gt):
			v.fail(gp, "grant type %q is not supported (%s)", gt, orList(oidc.GrantTypes))
		case seen[gt]:
			v.fail(gp, "duplicate grant type %q", gt)
		case !slices.Contains(enabled, gt) && gt == oidc.GrantPassword:
			v.fail(gp, "the password grant is off: set oauth2.passwordConnector: %s (and list password in oauth2.grantTypes, if set)", oidc.ConnectorLocal)
		case !slices.Contains(enabled, gt):
			v.fail(gp, "grant type %q is not enabled in oauth2.grantTypes", gt)
		case gt == oidc.GrantClientCredentials && cl.Public:
			v.fail(gp, "the client credentials grant is for confidential clients (RFC 6749 §4.4): remove it, or remove public: true")
		case gt == oidc.GrantPassword && len(cl.AllowedConnectors) > 0 && !slices.Contains(cl.AllowedConnectors, oidc.ConnectorLocal):
			v.fail(gp, "the password grant checks passwords with the %s connector, which allowedConnectors leave out", oidc.ConnectorLocal)
		}
		seen[gt] = true
	}
}

// validateAllowedConnectors warns about names that are not the id of a
// connector users may log in with (Dex loads them too). A list with none
// leaves the client no connector at all, so that its authorization
// requests are refused: one warning says so.
func (v validator) validateAllowedConnectors(p string, cl Client, ids []string) {
	if len(cl.AllowedConnectors) == 0 {
		return
	}
	known := "there is no connector"
	if len(ids) > 0 {
		known = "connector ids: " + strings.Join(ids, ", ")
	}
	if !slices.ContainsFunc(cl.AllowedConnectors, func(id string) bool { return slices.Contains(ids, id) }) {
		v.d.warn(p+".allowedConnectors", fmt.Sprintf("names no connector that exists (%s): "+
			"this client's authorization requests are refused (access_denied)", known))
		return
	}
	for j, name := range cl.AllowedConnectors {
		if !slices.Contains(ids, name) {
			v.d.warn(fmt.Sprintf("%s.allowedConnectors[%d]", p, j), fmt.Sprintf("names no connector: %q (%s)", name, known))
		}
	}
}
