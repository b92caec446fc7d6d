package oidc

import "slices"

// Scopes the provider understands (Dex's names). Others are ignored, never
// granted or echoed (OpenID Connect Core §3.1.2.1).
const (
	ScopeOpenID  = "openid"
	ScopeEmail   = "email"
	ScopeProfile = "profile"
	ScopeGroups  = "groups"
)

var supportedScopes = []string{ScopeOpenID, ScopeEmail, ScopeProfile, ScopeGroups}

var supportedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "amr",
	"email", "email_verified", "name", "preferred_username", "groups",
}

// grantedScopes keeps the understood scopes of a request, in request order,
// without duplicates.
func grantedScopes(requested []string) []string {
	var out []string
	for _, s := range requested {
		if slices.Contains(supportedScopes, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// userClaims returns the claims about u that scopes release, as Dex does.
func userClaims(u User, scopes []string) map[string]any {
	c := map[string]any{}
	if slices.Contains(scopes, ScopeEmail) {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	if slices.Contains(scopes, ScopeProfile) {
		if u.Name != "" {
			c["name"] = u.Name
		}
		if u.Username != "" {
			c["preferred_username"] = u.Username
		}
	}
	if slices.Contains(scopes, ScopeGroups) {
		groups := u.Groups
		if groups == nil {
			groups = []string{}
		}
		c["groups"] = groups
	}
	return c
}
