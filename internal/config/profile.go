package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// validateProfiles checks extensions.profile and each client's profile:
// a known profile, and nothing the profile forbids (oidc.CheckClientProfile
// and, for the FAPI 2.0 profile, the provider-wide settings it narrows:
// oidc.Settings.Profile). The core refuses the same at run time; here the
// operator learns it before deploying, with the setting's path.
func validateProfiles(v validator, c *Config) {
	global := c.Extensions.Profile
	if global != "" && !slices.Contains(oidc.Profiles, global) {
		v.fail("extensions.profile", "unknown profile %q (%s)", global, orList(oidc.Profiles))
		global = ""
	}
	anyFAPI := global == oidc.ProfileFAPI2
	for i, cl := range c.StaticClients {
		p := fmt.Sprintf("staticClients[%d]", i)
		if cl.Profile != "" && !slices.Contains(oidc.Profiles, cl.Profile) {
			v.fail(p+".profile", "unknown profile %q (%s)", cl.Profile, orList(oidc.Profiles))
			continue
		}
		if err := oidc.CheckClientProfile(global, profileView(cl)); err != nil {
			v.fail(p, "%s", strings.TrimPrefix(err.Error(), oidc.ErrProfile.Error()+": "))
		}
		anyFAPI = anyFAPI || cl.Profile == oidc.ProfileFAPI2
	}
	if anyFAPI {
		validateFAPI2Shared(v, c)
	}
	if anyFAPI && c.Extensions.AuthCodes > time.Minute {
		// FAPI 2.0 §5.3.2.1: codes live at most 60 seconds.
		v.fail("extensions.authCodes", "FAPI 2.0 allows authorization codes of at most 1m, not %s", c.Extensions.AuthCodes)
	}
	if global == oidc.ProfileFAPI2 {
		validateFAPI2Provider(v, c)
	}
}

// validateFAPI2Provider checks the provider-wide settings under
// extensions.profile: fapi2 (FAPI 2.0 §5.3.2, §5.4.1).
func validateFAPI2Provider(v validator, c *Config) {
	if !slices.Contains(oidc.FAPI2SigningAlgorithms, c.SigningAlgorithm()) {
		v.fail("signer.config.algorithm", "FAPI 2.0 does not allow %s; use %s", c.SigningAlgorithm(), orList(oidc.FAPI2SigningAlgorithms))
	}
	for i, rt := range c.OAuth2.ResponseTypes {
		if rt != "code" {
			v.fail(fmt.Sprintf("oauth2.responseTypes[%d]", i), "FAPI 2.0 allows response_type=code only")
		}
	}
	for i, gt := range c.OAuth2.GrantTypes {
		if !slices.Contains(oidc.FAPI2GrantTypes, gt) {
			v.fail(fmt.Sprintf("oauth2.grantTypes[%d]", i), "FAPI 2.0 does not allow the %s grant (%s)", gt, orList(oidc.FAPI2GrantTypes))
		}
	}
	if c.OAuth2.PasswordConnector != "" {
		v.fail("oauth2.passwordConnector", "FAPI 2.0 refuses the password grant (§5.3.2.1)")
	}
	if a := c.Extensions.AccessTokenSigningAlg; a != "" && !slices.Contains(oidc.FAPI2SigningAlgorithms, a) {
		v.fail("extensions.accessTokenSigningAlg", "FAPI 2.0 does not allow %s; use %s", a, orList(oidc.FAPI2SigningAlgorithms))
	}
	for i, a := range c.Extensions.SigningAlgs {
		if !slices.Contains(oidc.FAPI2SigningAlgorithms, a) {
			v.fail(fmt.Sprintf("extensions.signingAlgs[%d]", i), "FAPI 2.0 does not allow %s; use %s", a, orList(oidc.FAPI2SigningAlgorithms))
		}
	}
}

// validateFAPI2Shared checks what a FAPI 2.0 client shares with every
// other client (§5.3.2.2 item 13, §5.4.1): the request_uri lifetime and the
// algorithm of the resource servers' access tokens.
func validateFAPI2Shared(v validator, c *Config) {
	if c.Extensions.PAR.Lifetime >= 10*time.Minute {
		v.fail("extensions.pushedAuthorizationRequests.lifetime", "FAPI 2.0 needs request_uri lifetimes under 10m")
	}
	for i, rs := range c.ResourceServers {
		if rs.SigningAlg != "" && !slices.Contains(oidc.FAPI2SigningAlgorithms, rs.SigningAlg) {
			v.fail(fmt.Sprintf("resourceServers[%d].signingAlg", i), "FAPI 2.0 does not allow %s; use %s", rs.SigningAlg, orList(oidc.FAPI2SigningAlgorithms))
		}
	}
}

// profileView is what oidc.CheckClientProfile reads of a static client.
func profileView(cl Client) oidc.Client {
	out := oidc.Client{
		Public: cl.Public, RedirectURIs: cl.RedirectURIs, GrantTypes: cl.GrantTypes,
		IDTokenSigningAlg: cl.IDTokenSigningAlg, UserInfoSigningAlg: cl.UserInfoSigningAlg, JWKS: cl.JWKS, JWKSURI: cl.JWKSURI,
		Profile: cl.Profile, TokenEndpointAuthMethod: cl.TokenEndpointAuthMethod, RequestObjectSigningAlg: cl.RequestObjectSigningAlg,
	}
	if cl.Secret != "" || cl.SecretEnv != "" {
		out.SecretHash = "set" // only whether there is one matters here
	}
	if out.TokenEndpointAuthMethod == "" && (cl.JWKS != "" || cl.JWKSURI != "") {
		out.TokenEndpointAuthMethod = "private_key_jwt"
	}
	return out
}
