package oidc

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// PKCE (RFC 7636). Only S256 is offered: "plain" protects nothing once the
// authorization request leaks (RFC 9700 §2.1.1).
const pkceS256 = "S256"

// validCodeChallenge: an S256 challenge is base64url(SHA-256), 43 characters.
func validCodeChallenge(s string) bool {
	return len(s) == 43 && isUnreserved(s, false)
}

// validCodeVerifier: 43 to 128 unreserved characters (RFC 7636 §4.1).
func validCodeVerifier(s string) bool {
	return len(s) >= 43 && len(s) <= 128 && isUnreserved(s, true)
}

// isUnreserved reports whether s has only [A-Za-z0-9-_] (and ".~" when
// dotTilde), the unreserved characters of RFC 3986 §2.3.
func isUnreserved(s string, dotTilde bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case dotTilde && (c == '.' || c == '~'):
		default:
			return false
		}
	}
	return true
}

// verifyPKCE checks verifier against an S256 challenge in constant time.
func verifyPKCE(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}
