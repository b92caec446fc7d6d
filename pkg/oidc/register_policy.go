package oidc

import (
	"crypto/sha256"
	"crypto/subtle"
	"slices"
)

// Registration policies: who may register a client at PathRegister
// (RFC 7591 §3).
const (
	// RegistrationClosed (the default, also ""): /register refuses every
	// request (403 access_denied) and discovery lists no
	// registration_endpoint. Clients already registered can still read,
	// update and delete their registration with their registration access
	// token.
	RegistrationClosed = "closed"
	// RegistrationOpen: anyone may register a client, within the limits.
	RegistrationOpen = "open"
	// RegistrationInitialAccessToken: a registration needs one of
	// RegistrationPolicy.InitialAccessTokens as a Bearer token (RFC 7591
	// §3: an initial access token).
	RegistrationInitialAccessToken = "initialAccessToken"
)

// RegistrationPolicies lists the values of RegistrationPolicy.Policy.
var RegistrationPolicies = []string{RegistrationClosed, RegistrationOpen, RegistrationInitialAccessToken}

// DefaultRegistrationGrantTypes are the grant types a registered client
// may ask for when RegistrationPolicy.AllowedGrantTypes is empty.
var DefaultRegistrationGrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}

// DefaultRegistrationSchemes are the redirect URI schemes a registered
// client may use when RegistrationPolicy.AllowedRedirectSchemes is empty:
// https, and http for loopback hosts only (CheckRedirectURI).
var DefaultRegistrationSchemes = []string{"https", "http"}

// RegistrationPolicy is dynamic client registration's policy
// (extensions.registration).
type RegistrationPolicy struct {
	// Policy is one of RegistrationPolicies; "" is RegistrationClosed.
	Policy string
	// InitialAccessTokens are the tokens RegistrationInitialAccessToken
	// accepts; compared in constant time, never logged.
	InitialAccessTokens []string
	// AllowedGrantTypes limit what a registered client may ask for, within
	// Settings.GrantTypes ("implicit" too, for the authorization
	// endpoint's token-returning response types); empty:
	// DefaultRegistrationGrantTypes.
	AllowedGrantTypes []string
	// AllowedScopes limit the scope metadata; empty: the scopes discovery
	// lists.
	AllowedScopes []string
	// AllowedRedirectSchemes limit the schemes of redirect URIs (lower
	// case); a custom scheme (a native app's, RFC 8252 §7.1) is
	// registrable only when listed here, and only by a public client.
	// Empty: DefaultRegistrationSchemes.
	AllowedRedirectSchemes []string
}

// Open reports whether /register accepts registrations (with or without
// an initial access token): discovery then lists registration_endpoint.
func (p RegistrationPolicy) Open() bool {
	return p.Policy == RegistrationOpen || p.Policy == RegistrationInitialAccessToken
}

func (p RegistrationPolicy) allowedGrantTypes() []string {
	if len(p.AllowedGrantTypes) == 0 {
		return DefaultRegistrationGrantTypes
	}
	return p.AllowedGrantTypes
}

func (p RegistrationPolicy) allowedRedirectSchemes() []string {
	if len(p.AllowedRedirectSchemes) == 0 {
		return DefaultRegistrationSchemes
	}
	return p.AllowedRedirectSchemes
}

// initialTokenValid reports whether token is one of the initial access
// tokens, comparing SHA-256 digests in constant time and looking at every
// configured token whatever matched.
func (p RegistrationPolicy) initialTokenValid(token string) bool {
	if token == "" {
		return false
	}
	got := sha256.Sum256([]byte(token))
	ok := 0
	for _, t := range p.InitialAccessTokens {
		want := sha256.Sum256([]byte(t))
		ok |= subtle.ConstantTimeCompare(got[:], want[:]) & boolInt(t != "")
	}
	return ok == 1
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// validRegistrationPolicy is Settings' check of the policy.
func validRegistrationPolicy(p RegistrationPolicy) bool {
	return p.Policy == "" || slices.Contains(RegistrationPolicies, p.Policy)
}
