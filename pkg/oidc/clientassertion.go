package oidc

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// JWT client authentication (OpenID Connect Core §9, RFC 7523 §2.2 and
// §3, RFC 7521 §4.2): private_key_jwt, and client_secret_jwt for the
// clients whose secret the provider holds in the clear (static clients
// that opt in: Client.HMACSecret); every other client's secret is kept
// only as a hash, which cannot check an HMAC.

const (
	authPrivateKeyJWT   = "private_key_jwt"
	authClientSecretJWT = "client_secret_jwt"
	// clientAssertionTypeJWT is client_assertion_type (RFC 7523 §2.2).
	clientAssertionTypeJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	maxClientAssertion     = 16 << 10
	maxAssertionJTI        = 256
	// maxAssertionLifetime: an assertion whose exp lies further ahead is
	// refused, so that a jti is remembered for a bounded time and a stolen
	// assertion is of short use (RFC 7523 §3 item 4 lets the server limit
	// it).
	maxAssertionLifetime = 5 * time.Minute
	// assertionSkew is the clock skew allowed on exp, nbf and iat.
	assertionSkew = 30 * time.Second
)

// ClientAssertionSigningAlgorithms are the JWS algorithms of private_key_jwt
// assertions (token_endpoint_auth_signing_alg_values_supported): asymmetric
// only, never none nor HS* (OpenID Connect Core §9).
var ClientAssertionSigningAlgorithms = []string{RS256, PS256, ES256}

// assertionVerifier checks client assertions for the token function.
type assertionVerifier struct {
	b       *base
	replays ReplayStore // nil: JWT client authentication is refused
	keys    *clientKeySets
}

// authenticate authenticates the client of a request carrying
// client_assertion. Every failure is invalid_client (RFC 7521 §4.2.1).
func (v assertionVerifier) authenticate(r *http.Request, params url.Values, clients ClientStore) (Client, error) {
	if params.Get("client_assertion_type") != clientAssertionTypeJWT {
		return Client{}, invalidClient(false, "client_assertion_type must be "+clientAssertionTypeJWT)
	}
	raw := params.Get("client_assertion")
	if raw == "" || len(raw) > maxClientAssertion {
		return Client{}, invalidClient(false, "client_assertion is missing or too long")
	}
	if v.replays == nil {
		return Client{}, invalidClient(false, "JWT client authentication is not available")
	}
	algs := slices.Concat(ClientAssertionSigningAlgorithms, ClientSecretJWTAlgorithms)
	jws, err := jose.ParseSignedCompact(raw, joseAlgs(algs))
	if err != nil || len(jws.Signatures) != 1 {
		return Client{}, invalidClient(false, "client_assertion is not a JWS signed with "+strings.Join(algs, ", "))
	}
	if typ, _ := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string); strings.EqualFold(typ, "oauth-authz-req+jwt") {
		// RFC 9101 §10.8: a request object is no client assertion.
		return Client{}, invalidClient(false, "client_assertion is a request object")
	}
	var unverified jwt.Claims
	if json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified) != nil || unverified.Subject == "" {
		return Client{}, invalidClient(false, "client_assertion has no usable sub")
	}
	// RFC 7521 §4.2: a client_id beside the assertion names the same client.
	if id := params.Get("client_id"); id != "" && id != unverified.Subject {
		return Client{}, invalidClient(false, "client_id does not match the assertion's sub")
	}
	client, err := clients.Client(r.Context(), unverified.Subject)
	if err != nil {
		if isNotFound(err) {
			return Client{}, invalidClient(false, "client authentication failed")
		}
		return Client{}, internalError(err)
	}
	if client.TokenEndpointAuthMethod != authPrivateKeyJWT && client.TokenEndpointAuthMethod != authClientSecretJWT {
		return Client{}, invalidClient(false, "the client does not authenticate with private_key_jwt or client_secret_jwt")
	}
	payload, err := v.keys.verify(r.Context(), client, raw, jws,
		invalidClient(false, "client_assertion's signature does not verify with the client's keys"))
	if errors.Is(err, errJWKSUnreadable) {
		return Client{}, invalidClient(false, "the client's jwks_uri could not be read")
	}
	if err != nil {
		return Client{}, err
	}
	var claims jwt.Claims
	if json.Unmarshal(payload, &claims) != nil {
		return Client{}, invalidClient(false, "client_assertion's claims are malformed")
	}
	if err := v.checkClaims(client.ID, claims); err != nil {
		return Client{}, err
	}
	if err := checkProfileAssertion(client, payload, v.b.s.Issuer); err != nil {
		return Client{}, err
	}
	return client, v.useOnce(r, client.ID, claims)
}

// checkClaims applies RFC 7523 §3 to a verified assertion's claims.
func (v assertionVerifier) checkClaims(clientID string, c jwt.Claims) error {
	now := v.b.now()
	switch {
	case c.Issuer != clientID || c.Subject != clientID:
		// §3 items 1 and 2: iss and sub are the client_id.
		return invalidClient(false, "client_assertion's iss and sub must be the client_id")
	case !v.audienceOK(c.Audience):
		// §3 item 3.
		return invalidClient(false, "client_assertion's aud must be the issuer")
	case c.Expiry == nil:
		return invalidClient(false, "client_assertion has no exp")
	case c.Expiry.Time().Before(now.Add(-assertionSkew)):
		// §3 item 4.
		return invalidClient(false, "client_assertion has expired")
	case c.Expiry.Time().After(now.Add(maxAssertionLifetime)):
		return invalidClient(false, "client_assertion's exp is more than 5 minutes ahead")
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(assertionSkew)):
		// §3 item 5.
		return invalidClient(false, "client_assertion is not valid yet")
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(assertionSkew)):
		return invalidClient(false, "client_assertion is issued in the future")
	case c.ID == "" || len(c.ID) > maxAssertionJTI:
		// OpenID Connect Core §9: jti is REQUIRED.
		return invalidClient(false, "client_assertion has no usable jti")
	}
	return nil
}

// audienceOK: some aud is exactly the issuer, or, only when
// Settings.AssertionTokenEndpointAudience allows it, the token endpoint URL
// (what OpenID Connect Core §9 once recommended). A client that uses an
// endpoint URL as aud can be led by a malicious authorization server,
// which advertises this provider's token endpoint as its own, to sign an
// assertion the attacker replays here (the 2025 "audience injection"
// disclosure); the issuer, which a client checks in discovery, cannot be
// borrowed that way.
func (v assertionVerifier) audienceOK(aud jwt.Audience) bool {
	return slices.Contains(aud, v.b.s.Issuer) || (v.b.s.AssertionTokenEndpointAudience && slices.Contains(aud, v.b.URL(PathToken)))
}

// useOnce records the jti until the assertion expires (RFC 7523 §3 item
// 7): a replay is refused.
func (v assertionVerifier) useOnce(r *http.Request, clientID string, c jwt.Claims) error {
	key := "client_assertion." + HashSecret(clientID+" "+c.ID)
	err := v.replays.UseOnce(r.Context(), key, c.Expiry.Time().Add(assertionSkew+time.Second))
	switch {
	case errors.Is(err, ErrConflict):
		v.b.securityEvent(r.Context(), EventClientAssertionReplay)
		return invalidClient(false, "client_assertion was already used")
	case err != nil:
		return internalError(err)
	}
	return nil
}
