package oidc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"
)

// Server nonces (RFC 9449 §8, §9): with DPoPPolicy.RequireNonce, a proof
// must carry a nonce the server issued recently, which limits the life of
// proofs made in advance by someone who briefly held the key. Nonces need
// no storage: each is the number of its period and an HMAC of it under
// DPoPPolicy.NonceKey, issued during its period and accepted during the
// next one too, by every container of every function that has the key.

const dpopNoncePurpose = "serverless-oidc dpop nonce v1"

// dpopNonce is the nonce issued now.
func (d dpopChecker) nonce(now time.Time) string {
	return d.nonceFor(now.UnixNano() / int64(d.b.s.DPoP.NonceLifetime))
}

func (d dpopChecker) nonceFor(period int64) string {
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], uint64(period))
	mac := hmac.New(sha256.New, d.b.s.DPoP.NonceKey)
	mac.Write([]byte(dpopNoncePurpose))
	mac.Write([]byte(d.b.s.Issuer))
	mac.Write(p[:])
	return base64.RawURLEncoding.EncodeToString(append(p[:], mac.Sum(nil)[:16]...))
}

// validDPoPNonce reports whether nonce was issued in this period or the
// previous one. The MAC is compared in constant time.
func (d dpopChecker) validNonce(nonce string, now time.Time) bool {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != 24 {
		return false
	}
	period := int64(binary.BigEndian.Uint64(raw[:8]))
	current := now.UnixNano() / int64(d.b.s.DPoP.NonceLifetime)
	if period != current && period != current-1 {
		return false
	}
	return hmac.Equal([]byte(nonce), []byte(d.nonceFor(period)))
}

// offerDPoPNonce sets DPoP-Nonce on the answer to a request that carries
// a DPoP proof, when nonces are required: the client's next proof needs it
// (§8.2 lets any response carry a fresh one).
func (d dpopChecker) offerNonce(w http.ResponseWriter, r *http.Request) {
	if d.b.s.DPoP.RequireNonce && r.Header.Get(HeaderDPoP) != "" {
		w.Header().Set(HeaderDPoPNonce, d.nonce(d.b.now()))
	}
}

// dpopChallenge is the WWW-Authenticate value of a protected resource
// (RFC 9449 §7.1): the DPoP scheme with the algorithms it accepts and, for
// a failed request, the error.
func dpopChallenge(code, description string) string {
	c := `DPoP algs="` + strings.Join(DPoPSigningAlgorithms, " ") + `"`
	if code != "" {
		c += `, error="` + code + `", error_description="` + strings.ReplaceAll(description, `"`, `'`) + `"`
	}
	return c
}

// resourceDPoPError turns a proof failure at userinfo into the resource's
// answer (§7.1, §9): 401 with a DPoP challenge carrying the same code.
func resourceDPoPError(err error) error {
	e, ok := err.(*Error)
	if !ok || (e.Code != ErrCodeInvalidDPoPProof && e.Code != ErrCodeUseDPoPNonce) {
		return err
	}
	return &Error{Code: e.Code, Description: e.Description, Status: http.StatusUnauthorized,
		WWWAuthenticate: dpopChallenge(e.Code, e.Description)}
}
