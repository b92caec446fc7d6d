package oidc

import (
	"io"
	"strings"
	"time"
)

// Refresh tokens are "<family secret>.<generation secret>", both 256-bit
// random. The family secret locates the family (its hash is the store key)
// and proves the presenter holds some token of the family; the generation
// secret tells the current token from rotated ones. Presenting a rotated
// token outside the reuse interval therefore proves a copy exists
// elsewhere, and revokes the family (RFC 9700 §4.14.2).
//
// The reuse interval returns the same successor without storing it in
// clear and without a server-held key: the successor is sealed (AES-256-GCM)
// under a key derived (HKDF-SHA256) from the token it replaced, which only
// the client holds. A leaked table yields no usable token.

// newRefreshToken returns a token of the family with a fresh generation secret.
func newRefreshToken(r io.Reader, family string) (string, error) {
	gen, err := newSecret(r)
	if err != nil {
		return "", err
	}
	return family + "." + gen, nil
}

// refreshFamily returns the family secret of a well-formed refresh token.
func refreshFamily(token string) (string, bool) {
	family, gen, ok := strings.Cut(token, ".")
	if !ok || len(family) != 43 || len(gen) != 43 || !isUnreserved(family, false) || !isUnreserved(gen, false) {
		return "", false
	}
	return family, true
}

// successorPurpose separates the successor's key from the other keys
// derived from a token (sealUnder).
const successorPurpose = "serverless-oidc refresh successor v1"

// sealSuccessor encrypts successor so that only the holder of previous can
// read it.
func sealSuccessor(r io.Reader, previous, successor string) ([]byte, error) {
	return sealUnder(r, previous, successorPurpose, []byte(successor))
}

// openSuccessor decrypts what sealSuccessor sealed under previous.
func openSuccessor(previous string, box []byte) (string, error) {
	plain, err := openUnder(previous, successorPurpose, box)
	return string(plain), err
}

// RefreshPolicy holds Dex's refresh token settings (expiry.refreshTokens).
type RefreshPolicy struct {
	// ValidIfNotUsedFor ends a family unused for this long (0: no limit).
	ValidIfNotUsedFor time.Duration
	// AbsoluteLifetime ends a family this long after its first token (0: no limit).
	AbsoluteLifetime time.Duration
	// ReuseInterval: for this long after a rotation, the previous token
	// returns the same successor instead of counting as reuse, so parallel
	// requests and retries do not sign the user out.
	ReuseInterval time.Duration
	// DisableRotation returns the same token on every refresh.
	DisableRotation bool
}

// expiry is when a family created at created and last used at lastUsed ends.
func (rp RefreshPolicy) expiry(created, lastUsed time.Time) time.Time {
	var exp time.Time
	if rp.AbsoluteLifetime > 0 {
		exp = created.Add(rp.AbsoluteLifetime)
	}
	if rp.ValidIfNotUsedFor > 0 {
		if idle := lastUsed.Add(rp.ValidIfNotUsedFor); exp.IsZero() || idle.Before(exp) {
			exp = idle
		}
	}
	if exp.IsZero() {
		// Both limits off (Dex's default): the store still needs an expiry.
		exp = created.Add(100 * 365 * 24 * time.Hour)
	}
	return exp
}
