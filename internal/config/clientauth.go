package config

import (
	"slices"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Client authentication and authorization request settings of static
// clients: tokenEndpointAuthMethod, requestObjectSigningAlg,
// requirePushedAuthorizationRequests; and extensions.pushedAuthorizationRequests.

// tokenEndpointAuthMethods are the values tokenEndpointAuthMethod may take.
var tokenEndpointAuthMethods = []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"}

// validateClientAuth checks that a static client's tokenEndpointAuthMethod
// agrees with its credentials, and its requestObjectSigningAlg with its
// keys (a function, not a validator method: the validator's method set is
// full).
func validateClientAuth(v validator, p string, c Client) {
	hasKeys, hasSecret := c.JWKS != "" || c.JWKSURI != "", c.Secret != "" || c.SecretEnv != ""
	switch m := c.TokenEndpointAuthMethod; {
	case m == "":
	case !slices.Contains(tokenEndpointAuthMethods, m):
		v.fail(p+".tokenEndpointAuthMethod", "unknown method %q (%s)", m, orList(tokenEndpointAuthMethods))
	case m == "none" && !c.Public:
		v.fail(p+".tokenEndpointAuthMethod", "none is for public clients (public: true)")
	case m == "private_key_jwt" && !hasKeys:
		v.fail(p+".tokenEndpointAuthMethod", "private_key_jwt needs jwks or jwksURI")
	case m != "none" && m != "private_key_jwt" && (c.Public || hasKeys):
		v.fail(p+".tokenEndpointAuthMethod", "%s needs a secret, and neither public: true nor jwks or jwksURI", m)
	case m == "client_secret_jwt" && hasSecret && len(c.Secret) < oidc.MinClientSecretJWTLength:
		// RFC 7518 §3.2: an HS256 key of at least 256 bits.
		v.fail(p+".secret", "client_secret_jwt needs a secret of at least %d characters", oidc.MinClientSecretJWTLength)
	}
	alg := c.RequestObjectSigningAlg
	switch {
	case alg == "" || alg == "none":
	case !slices.Contains(oidc.RequestObjectSigningAlgorithms, alg):
		v.fail(p+".requestObjectSigningAlg", "unknown algorithm %q (%s, or none)", alg, orList(oidc.RequestObjectSigningAlgorithms))
	case slices.Contains(oidc.ClientSecretJWTAlgorithms, alg) && c.TokenEndpointAuthMethod != "client_secret_jwt":
		v.fail(p+".requestObjectSigningAlg", "%s request objects need tokenEndpointAuthMethod: client_secret_jwt (the secret is the key)", alg)
	case !slices.Contains(oidc.ClientSecretJWTAlgorithms, alg) && !hasKeys:
		v.fail(p+".requestObjectSigningAlg", "%s request objects need the client's keys (jwks or jwksURI)", alg)
	}
}

// validatePAR checks extensions.pushedAuthorizationRequests.
func validatePAR(v validator, par PAR) {
	if par.Lifetime < 0 || par.Lifetime > oidc.MaxPARLifetime {
		v.fail("extensions.pushedAuthorizationRequests.lifetime", "must be at most %s", oidc.MaxPARLifetime)
	}
}
