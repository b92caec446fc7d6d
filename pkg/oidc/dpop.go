package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// DPoP (RFC 9449): proofs of possession of a client's key, checked at the
// token endpoint (§5) and at userinfo (§7), which bind access tokens (and
// the refresh tokens of public clients) to that key.

// RFC 9449 §12.2 error codes.
const (
	// ErrCodeInvalidDPoPProof: the DPoP proof is missing where required,
	// malformed, or fails a check of §4.3.
	ErrCodeInvalidDPoPProof = "invalid_dpop_proof"
	// ErrCodeUseDPoPNonce: the proof must carry the server's nonce, sent
	// in the DPoP-Nonce header (§8).
	ErrCodeUseDPoPNonce = "use_dpop_nonce"
)

// HTTP header names and the token type of RFC 9449.
const (
	HeaderDPoP      = "DPoP"
	HeaderDPoPNonce = "DPoP-Nonce"
	// TokenTypeDPoP is token_type of a DPoP-bound access token (§5) and
	// its Authorization scheme (§7.1).
	TokenTypeDPoP = "DPoP"
	typDPoPProof  = "dpop+jwt"
	// maxDPoPProof bounds the header: an RSA-4096 key and the claims fit
	// in a few kilobytes.
	maxDPoPProof = 8 << 10
	maxDPoPJTI   = 256
)

// DPoPSigningAlgorithms are the asymmetric JWS algorithms a proof may use
// (dpop_signing_alg_values_supported). None, HS256 and every symmetric
// algorithm are refused: §4.3 requires an asymmetric algorithm, and a
// proof's key is public.
var DPoPSigningAlgorithms = []string{ES256, RS256, "PS256", "EdDSA"}

// DPoPPolicy holds the DPoP settings.
type DPoPPolicy struct {
	// ProofWindow is how far a proof's iat may lie from now, either way
	// (§4.3 check 11, §11.1); default 60s. Its jti is remembered that long.
	ProofWindow time.Duration
	// RequireNonce makes every proof carry a server nonce (§8): a proof
	// without the current one is answered use_dpop_nonce with a fresh
	// DPoP-Nonce. It needs NonceKey.
	RequireNonce bool
	// NonceKey (at least 32 bytes) derives nonces by HMAC, so every
	// container of the token and userinfo functions issues and accepts the
	// same ones without storage.
	NonceKey []byte
	// NonceLifetime is how long a nonce is issued before the next; one is
	// accepted for up to twice that. Default 5m.
	NonceLifetime time.Duration
}

// ReplayStore remembers single-use values (the jti of DPoP proofs) until
// they expire.
type ReplayStore interface {
	// UseOnce records key until expiry. It MUST fail with ErrConflict when
	// key is recorded and not yet expired: of any number of concurrent
	// callers with the same key exactly one succeeds.
	UseOnce(ctx context.Context, key string, expiry time.Time) error
}

// dpopClaims are a proof's claims (§4.2).
type dpopClaims struct {
	JTI   string   `json:"jti"`
	HTM   string   `json:"htm"`
	HTU   string   `json:"htu"`
	IAT   *float64 `json:"iat"`
	ATH   string   `json:"ath"`
	Nonce string   `json:"nonce"`
}

// dpopChecker verifies proofs for one endpoint type.
type dpopChecker struct {
	b       *base
	replays ReplayStore // nil: DPoP is not available, every proof is refused
}

// proof checks the DPoP header of r for a request to path (§4.3) and
// returns the RFC 7638 thumbprint of its key; "" and no error when r has
// no DPoP header. accessToken, when not "", must be bound by ath (§7).
// algs, when not nil, narrows DPoPSigningAlgorithms (a FAPI 2.0 client's,
// dpopAlgsOf); a proof in another is refused before its jti is spent.
// Errors are *Error with ErrCodeInvalidDPoPProof or ErrCodeUseDPoPNonce.
func (d dpopChecker) proof(r *http.Request, path, accessToken string, algs []string) (string, error) {
	values := r.Header.Values(HeaderDPoP)
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1:
		// §4.3 check 1: not more than one DPoP header.
		return "", dpopError("send one DPoP header")
	case d.replays == nil:
		return "", dpopError("DPoP is not available")
	}
	if algs == nil {
		algs = DPoPSigningAlgorithms
	}
	key, claims, err := parseDPoP(values[0], algs)
	if err != nil {
		return "", dpopError("the DPoP proof is invalid (its algorithm one of " + strings.Join(algs, ", ") + ")")
	}
	jkt, err := thumbprint(key)
	if err != nil {
		return "", dpopError("the DPoP proof is invalid")
	}
	now := d.b.now()
	if e := d.checkClaims(claims, r.Method, d.b.URL(path), accessToken, now); e != nil {
		return "", e
	}
	// §11.1: the jti is single use for as long as the proof is acceptable.
	replayKey := "dpop." + HashSecret(jkt+" "+claims.JTI)
	err = d.replays.UseOnce(r.Context(), replayKey, numericDate(*claims.IAT).Add(d.b.s.DPoP.ProofWindow+time.Second))
	switch {
	case errors.Is(err, ErrConflict):
		d.b.securityEvent(r.Context(), EventDPoPProofReplay)
		return "", dpopError("the DPoP proof was already used")
	case err != nil:
		return "", internalError(err)
	}
	return jkt, nil
}

// checkClaims runs §4.3 checks 5 to 12 on a proof whose signature holds.
func (d dpopChecker) checkClaims(c dpopClaims, method, htu, accessToken string, now time.Time) error {
	window := d.b.s.DPoP.ProofWindow
	switch {
	case c.JTI == "" || len(c.JTI) > maxDPoPJTI:
		return dpopError("the DPoP proof lacks a usable jti")
	case c.HTM != method:
		return dpopError("htm does not match the request method")
	case !sameHTU(c.HTU, htu):
		return dpopError("htu does not match the request URL")
	case c.IAT == nil || math.IsNaN(*c.IAT) || math.Abs(*c.IAT) > 1e11:
		return dpopError("the DPoP proof lacks a usable iat")
	}
	iat := numericDate(*c.IAT)
	if iat.Before(now.Add(-window)) || iat.After(now.Add(window)) {
		// §4.3 check 11: iat within an acceptable window.
		return dpopError("the DPoP proof is stale or from the future")
	}
	if accessToken != "" || c.ATH != "" {
		// §4.3 check 12, §7.1: ath is the hash of the token presented.
		sum := sha256.Sum256([]byte(accessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if accessToken == "" || subtle.ConstantTimeCompare([]byte(c.ATH), []byte(want)) != 1 {
			return dpopError("ath does not match the access token")
		}
	}
	if d.b.s.DPoP.RequireNonce && !d.validNonce(c.Nonce, now) {
		return &Error{Code: ErrCodeUseDPoPNonce, Description: "the DPoP proof must carry the server's nonce"}
	}
	return nil
}

// parseDPoP parses and verifies a proof's signature with the public key in
// its own header (§4.3 checks 2 to 7, 8 by the caller).
func parseDPoP(raw string, allowed []string) (*jose.JSONWebKey, dpopClaims, error) {
	var c dpopClaims
	if len(raw) > maxDPoPProof || strings.Count(raw, ".") != 2 {
		return nil, c, errors.New("not a compact JWS")
	}
	jws, err := jose.ParseSignedCompact(raw, joseAlgs(allowed))
	if err != nil || len(jws.Signatures) != 1 {
		return nil, c, errors.New("malformed JWS")
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	key := h.JSONWebKey
	if typ != typDPoPProof || key == nil || !key.Valid() || !key.IsPublic() || !asymmetricPublic(key.Key) {
		// RFC 9449 §4.3 check 4 and 7: the typ, and a public key with no
		// private parts.
		return nil, c, errors.New("bad header")
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, c, err
	}
	if !strictPSS(raw, jws, key.Key) {
		return nil, c, errors.New("PS256 signature without RFC 7518 §3.5's salt")
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, c, err
	}
	return key, c, nil
}

// numericDate is the time of a JWT NumericDate (RFC 7519 §2), which
// checkClaims bounds first.
func numericDate(f float64) time.Time {
	return time.Unix(0, int64(f*float64(time.Second)))
}

// asymmetricPublic reports whether k is a public key of an allowed kind.
func asymmetricPublic(k any) bool {
	switch k := k.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return true
	case *rsa.PublicKey:
		// RFC 7518 §3.3: 2048 bits or more (FAPI 2.0 §5.4.1 the same).
		return k.N.BitLen() >= 2048
	}
	return false
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of key, base64url: the
// jkt of §3.1 and of the cnf claim (§6.1).
func thumbprint(key *jose.JSONWebKey) (string, error) {
	sum, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// sameHTU compares a proof's htu with the endpoint's URL ignoring query
// and fragment (§4.3 check 9), after the syntax- and scheme-based
// normalization §4.3 recommends (RFC 3986 §6.2.2, §6.2.3): case of scheme
// and host, default port, empty path.
func sameHTU(got, want string) bool {
	g, err1 := normalizeHTU(got)
	w, err2 := normalizeHTU(want)
	return err1 == nil && err2 == nil && g == w
}

func normalizeHTU(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", errors.New("htu: not an absolute http URL")
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// dpopError is the token endpoint's answer to a bad proof: 400
// invalid_dpop_proof (§5). The resource form is resourceDPoPError.
func dpopError(description string) *Error {
	return &Error{Code: ErrCodeInvalidDPoPProof, Description: description}
}

// confirmation is the cnf claim of a DPoP-bound access token (§6.1) and
// of its introspection (§6.2).
type confirmation struct {
	JKT string `json:"jkt"`
}

// validJKT reports whether s can be a SHA-256 thumbprint (the dpop_jkt
// authorization request parameter, §10).
func validJKT(s string) bool {
	return len(s) == 43 && isUnreserved(s, false)
}

// boundKey is the key a new refresh family of client is bound to: the
// DPoP key of its tokens for a public client, none for a confidential one
// (RFC 9449 §5).
func boundKey(client Client, jkt string) string {
	if client.Public {
		return jkt
	}
	return ""
}
