package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Registration is extensions.registration: who may register clients at
// /register (RFC 7591) and what a registered client may ask for.
type Registration struct {
	// Policy is closed (the default: /register refuses, discovery lists
	// no registration_endpoint), open, or initialAccessToken.
	Policy string `yaml:"policy"`
	// InitialAccessTokensEnv names the environment variable that holds
	// the initial access tokens of the initialAccessToken policy: a
	// comma-separated list, or on AWS a secretsmanager:<id>[#<key>]
	// reference to a secret holding that list. Only the token function
	// (and the local server) reads it.
	InitialAccessTokensEnv string `yaml:"initialAccessTokensEnv"`
	// AllowedGrantTypes a registered client may ask for, within
	// oauth2.grantTypes (implicit too, for hybrid and implicit response
	// types); default [authorization_code, refresh_token].
	AllowedGrantTypes []string `yaml:"allowedGrantTypes"`
	// AllowedScopes a registered client may list in its scope metadata;
	// default: the scopes discovery lists.
	AllowedScopes []string `yaml:"allowedScopes"`
	// AllowedRedirectSchemes of registered redirect URIs; default [https,
	// http] (http on loopback hosts only). A custom scheme listed here is
	// registrable by public clients (native apps, RFC 8252 §7.1).
	AllowedRedirectSchemes []string `yaml:"allowedRedirectSchemes"`

	// InitialAccessTokens is the value of the variable
	// InitialAccessTokensEnv names, as the environment held it at load
	// (a list or a secretsmanager: reference); internal/app resolves it.
	InitialAccessTokens string `yaml:"-"`
}

// resolveRegistration reads the variable initialAccessTokensEnv names.
// An unset variable is not an error here: only the function that serves
// /register needs it, and it reports it (app).
func resolveRegistration(getenv func(string) string, c *Config) {
	if name := c.Extensions.Registration.InitialAccessTokensEnv; name != "" && getenv != nil {
		c.Extensions.Registration.InitialAccessTokens = getenv(name)
	}
}

// envName is a portable environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// schemeName is an RFC 3986 §3.1 scheme, lower case.
var schemeName = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// validateRegistration checks extensions.registration.
func (v validator) validateRegistration(c *Config) {
	const p = "extensions.registration."
	r := c.Extensions.Registration
	if r.Policy != "" && !slices.Contains(oidc.RegistrationPolicies, r.Policy) {
		v.fail(p+"policy", "unknown policy %q (%s)", r.Policy, orList(oidc.RegistrationPolicies))
	}
	switch {
	case r.Policy == oidc.RegistrationInitialAccessToken && r.InitialAccessTokensEnv == "":
		v.fail(p+"initialAccessTokensEnv", "required by the initialAccessToken policy: the environment variable holding the tokens")
	case r.InitialAccessTokensEnv != "" && !envName.MatchString(r.InitialAccessTokensEnv):
		v.fail(p+"initialAccessTokensEnv", "%q is not an environment variable name", r.InitialAccessTokensEnv)
	case r.InitialAccessTokensEnv != "" && r.Policy != oidc.RegistrationInitialAccessToken:
		v.fail(p+"initialAccessTokensEnv", "has no effect unless policy is initialAccessToken")
	}
	grants := c.OAuth2.GrantTypes
	if len(grants) == 0 {
		grants = oidc.GrantTypes
	}
	for i, g := range r.AllowedGrantTypes {
		if g != "implicit" && !slices.Contains(grants, g) {
			v.fail(fmt.Sprintf("%sallowedGrantTypes[%d]", p, i), "grant type %q is not enabled (%s, or implicit)", g, orList(grants))
		}
	}
	for i, s := range r.AllowedScopes {
		if s == "" || strings.ContainsAny(s, " \"\\") {
			v.fail(fmt.Sprintf("%sallowedScopes[%d]", p, i), "%q is not a scope value (RFC 6749 §3.3)", s)
		}
	}
	for i, s := range r.AllowedRedirectSchemes {
		switch {
		case !schemeName.MatchString(s):
			v.fail(fmt.Sprintf("%sallowedRedirectSchemes[%d]", p, i), "%q is not a lower-case URI scheme like https or com.example.app", s)
		case slices.Contains([]string{"javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss"}, s):
			v.fail(fmt.Sprintf("%sallowedRedirectSchemes[%d]", p, i), "the scheme %s is never a redirect target", s)
		}
	}
}
