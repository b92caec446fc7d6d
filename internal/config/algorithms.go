package config

import (
	"fmt"
	"slices"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Signing algorithms: which JWS algorithms the provider offers for ID
// tokens and userinfo responses, and which it signs access tokens with.
//
// OpenID Connect Core §15.1: an OP MUST support RS256 for ID tokens. The
// rule here: RS256 is always offered (and the signer must hold an RS256
// key), except in a closed deployment where it cannot matter: dynamic
// registration closed, and every static client names another algorithm
// (idTokenSigningAlg). Any client that names no algorithm, or may still
// register, can then always get RS256.

// rs256Optional reports whether no client can ever ask for RS256: the
// exception to OpenID Connect Core §15.1's rule (see above).
func (c *Config) rs256Optional() bool {
	if c.Extensions.Profile == oidc.ProfileFAPI2 {
		return true // FAPI 2.0 §5.4.1 allows no RS256 at all
	}
	if c.Extensions.Registration.Policy != "" && c.Extensions.Registration.Policy != "closed" {
		return false
	}
	if len(c.StaticClients) == 0 {
		return false
	}
	for _, cl := range c.StaticClients {
		if alg := cl.idTokenAlg(""); alg == "" || alg == oidc.RS256 {
			return false
		}
	}
	return true
}

// IDTokenSigningAlgorithms are the JWS algorithms ID tokens and userinfo
// responses may be signed with, in the order of oidc.SigningAlgorithms
// (RS256 first): RS256 (OpenID Connect Core §15.1, see rs256Optional),
// signer.config.algorithm, every static client's idTokenSigningAlg and
// userInfoSigningAlg, and extensions.signingAlgs. Discovery advertises
// them (id_token_signing_alg_values_supported,
// userinfo_signing_alg_values_supported) without calling the signer, and
// the signer must have a key of each (backend.Env.IDTokenAlgorithms).
func (c *Config) IDTokenSigningAlgorithms() []string {
	want := append([]string{c.SigningAlgorithm()}, c.Extensions.SigningAlgs...)
	if !c.rs256Optional() {
		want = append(want, oidc.RS256)
	}
	for _, cl := range c.StaticClients {
		want = append(want, cl.idTokenAlg(c.Extensions.Profile), cl.UserInfoSigningAlg)
	}
	var out []string
	for _, alg := range oidc.SigningAlgorithms {
		if slices.Contains(want, alg) {
			out = append(out, alg)
		}
	}
	return out
}

// AccessTokenSigningAlgorithm is extensions.accessTokenSigningAlg: the
// algorithm of access tokens, which the signer must then have a key of;
// "" (the default): ES256 when the signer has an ES256 key, else
// signer.config.algorithm.
func (c *Config) AccessTokenSigningAlgorithm() string {
	return c.Extensions.AccessTokenSigningAlg
}

// validateSigningAlgs checks the algorithms of extensions.
func validateSigningAlgs(v validator, e Extensions) {
	if a := e.AccessTokenSigningAlg; a != "" && !slices.Contains(oidc.SigningAlgorithms, a) {
		v.fail("extensions.accessTokenSigningAlg", "unknown algorithm %q (%s)", a, orList(oidc.SigningAlgorithms))
	}
	for i, a := range e.SigningAlgs {
		if !slices.Contains(oidc.SigningAlgorithms, a) {
			v.fail(fmt.Sprintf("extensions.signingAlgs[%d]", i), "unknown algorithm %q (%s)", a, orList(oidc.SigningAlgorithms))
		}
	}
}

// validateClientAlgs checks a static client's algorithms.
func validateClientAlgs(v validator, p string, c Client) {
	for _, f := range [][2]string{{"idTokenSigningAlg", c.IDTokenSigningAlg}, {"userInfoSigningAlg", c.UserInfoSigningAlg}} {
		if f[1] != "" && !slices.Contains(oidc.SigningAlgorithms, f[1]) {
			v.fail(p+"."+f[0], "unknown algorithm %q (%s)", f[1], orList(oidc.SigningAlgorithms))
		}
	}
}
