package oidc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Request objects: the request parameter (OpenID Connect Core §6.1,
// RFC 9101), a JWT whose claims are the authorization request's
// parameters, signed with the client's keys (those of private_key_jwt),
// or, for a client_secret_jwt client, with an HMAC of its secret. Accepted
// at the authorization endpoint and inside a pushed request; request_uri
// only as PAR's (authsource.go): a URL is never fetched.

// RequestObjectSigningAlgorithms are the JWS algorithms of request
// objects (request_object_signing_alg_values_supported): the client
// assertions' ones. "none" is accepted only from a client registered
// with request_object_signing_alg none.
var RequestObjectSigningAlgorithms = slices.Concat(ClientAssertionSigningAlgorithms, ClientSecretJWTAlgorithms)

const (
	algNone          = "none"
	maxRequestObject = 32 << 10
	// maxRequestObjectLifetime bounds exp, so a jti is remembered for a
	// bounded time (FAPI 1.0 Advanced §5.2.2 item 13 allows 60 minutes).
	maxRequestObjectLifetime = time.Hour
)

// requestObjects decodes request objects.
type requestObjects struct {
	b       *base
	replays ReplayStore // nil: request objects are refused (request_not_supported)
	keys    *clientKeySets
}

// jwtClaimNames are a request object's JWT claims, not request parameters.
var jwtClaimNames = []string{"iss", "aud", "exp", "nbf", "iat", "jti", "sub"}

// decode verifies client's request object raw and returns the request's
// parameters: its claims alone (RFC 9101 §6.3: the authorization server
// MUST only use the parameters in the Request Object), with client_id.
// Its errors are JSON errors; the authorization endpoint makes them
// pages, since no redirect URI of the request can be trusted.
func (o *requestObjects) decode(ctx context.Context, client Client, raw string) (url.Values, error) {
	if o == nil || o.replays == nil {
		return nil, errorf(ErrCodeRequestNotSupported, "request objects are not supported")
	}
	payload, signed, err := o.verify(ctx, client, raw)
	if err != nil {
		return nil, err
	}
	var claims map[string]json.RawMessage
	var std jwt.Claims
	if json.Unmarshal(payload, &claims) != nil || json.Unmarshal(payload, &std) != nil {
		return nil, badRequestObject("the request object's claims are not a JSON object")
	}
	if err := o.checkClaims(client.ID, std, signed); err != nil {
		return nil, err
	}
	params, err := claimsToParams(claims)
	if err != nil {
		return nil, err
	}
	// RFC 9101 §5: client_id in the object, when there, is the client's.
	if id, ok := params["client_id"]; ok && (len(id) != 1 || id[0] != client.ID) {
		return nil, badRequestObject("the request object's client_id is not the client's")
	}
	params.Set("client_id", client.ID)
	if signed {
		if err := o.useOnce(ctx, client.ID, std); err != nil {
			return nil, err
		}
	}
	return params, nil
}

func badRequestObject(description string) *Error {
	return errorf(ErrCodeInvalidRequestObject, description)
}

// verify checks raw's signature and returns its payload; signed is false
// for an unsigned object (alg none), which only a client registered with
// request_object_signing_alg none may send (OpenID Connect Dynamic Client
// Registration §2: otherwise refused).
func (o *requestObjects) verify(ctx context.Context, client Client, raw string) (payload []byte, signed bool, err error) {
	parts := strings.Split(raw, ".")
	if len(raw) > maxRequestObject || len(parts) != 3 {
		// Five parts: an encrypted object, which is not offered.
		return nil, false, badRequestObject("the request object is not a signed JWT or is too long")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return nil, false, badRequestObject("the request object's header is malformed")
	}
	want := client.RequestObjectSigningAlg
	if h.Alg == algNone {
		if want != algNone || parts[2] != "" {
			return nil, false, badRequestObject("unsigned request objects are refused")
		}
		if payload, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
			return nil, false, badRequestObject("the request object's payload is malformed")
		}
		return payload, false, nil
	}
	jws, err := jose.ParseSignedCompact(raw, joseAlgs(RequestObjectSigningAlgorithms))
	if err != nil || len(jws.Signatures) != 1 {
		return nil, false, badRequestObject("the request object is not a JWS")
	}
	// The algorithm the signature is verified with is go-jose's reading of
	// the header, never a second parse of ours: encoding/json matches keys
	// case-insensitively, so {"alg":"RS256","Alg":"PS256"} would pass a
	// pin here and verify as RS256 there.
	alg := jws.Signatures[0].Header.Algorithm
	if (want != "" && want != algNone && alg != want) || !slices.Contains(RequestObjectSigningAlgorithms, alg) {
		return nil, false, badRequestObject("the request object's alg is not one the client may use")
	}
	fail := badRequestObject("the request object's signature does not verify with the client's keys")
	payload, err = o.keys.verify(ctx, client, raw, jws, fail)
	if errors.Is(err, errJWKSUnreadable) {
		return nil, false, badRequestObject("the client's jwks_uri could not be read")
	}
	return payload, true, err
}

// checkClaims: a signed object's iss is the client, its aud the issuer,
// its exp present and at most maxRequestObjectLifetime ahead, its jti
// present (RFC 9101 §4, §10.2; OpenID Connect Core §6.1); nbf and iat,
// when present, not in the future.
func (o *requestObjects) checkClaims(clientID string, c jwt.Claims, signed bool) error {
	now := o.b.now()
	switch {
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(assertionSkew)):
		return badRequestObject("the request object is not valid yet")
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(assertionSkew)):
		return badRequestObject("the request object is issued in the future")
	case c.Expiry != nil && c.Expiry.Time().Before(now.Add(-assertionSkew)):
		return badRequestObject("the request object has expired")
	case !signed:
		return nil
	case c.Issuer != clientID:
		return badRequestObject("the request object's iss must be the client_id")
	case c.Subject == clientID:
		// RFC 9101 §10.8: iss = sub = client_id is a client assertion's
		// shape; refusing it here (and the request object type there)
		// keeps one JWT from serving as both.
		return badRequestObject("the request object's sub must not be the client_id")
	case !slices.Contains(c.Audience, o.b.s.Issuer):
		return badRequestObject("the request object's aud must be the issuer")
	case c.Expiry == nil:
		return badRequestObject("the request object has no exp")
	case c.Expiry.Time().After(now.Add(maxRequestObjectLifetime)):
		return badRequestObject("the request object's exp is more than an hour ahead")
	case c.ID == "" || len(c.ID) > maxAssertionJTI:
		return badRequestObject("the request object has no usable jti")
	}
	return nil
}

// useOnce records the jti until the object expires: a replay is refused.
func (o *requestObjects) useOnce(ctx context.Context, clientID string, c jwt.Claims) error {
	key := "request_object." + HashSecret(clientID+" "+c.ID)
	err := o.replays.UseOnce(ctx, key, c.Expiry.Time().Add(assertionSkew+time.Second))
	switch {
	case errors.Is(err, ErrConflict):
		return badRequestObject("the request object was already used")
	case err != nil:
		return internalError(err)
	}
	return nil
}

// claimsToParams turns a request object's claims into parameters: strings
// as they are, numbers and booleans as their JSON text, the claims
// request (an object) as compact JSON, resource as a string or an array of
// strings (RFC 8707 §2). request and request_uri MUST NOT be inside
// (RFC 9101 §4).
func claimsToParams(claims map[string]json.RawMessage) (url.Values, error) {
	params := url.Values{}
	for name, raw := range claims {
		if slices.Contains(jwtClaimNames, name) {
			continue
		}
		if name == "request" || name == "request_uri" {
			return nil, badRequestObject("a request object must not contain request or request_uri")
		}
		raw = bytes.TrimSpace(raw)
		var s string
		var list []string
		switch {
		case bytes.Equal(raw, []byte("null")):
		case json.Unmarshal(raw, &s) == nil:
			params.Set(name, s)
		case raw[0] == '{' && name == "claims":
			var compact bytes.Buffer
			if json.Compact(&compact, raw) != nil {
				return nil, badRequestObject("the request object's claims is malformed")
			}
			params.Set(name, compact.String())
		case raw[0] == '[' && name == "resource" && json.Unmarshal(raw, &list) == nil:
			params[name] = list
		case raw[0] != '{' && raw[0] != '[' && raw[0] != '"':
			params.Set(name, string(raw)) // a number or a boolean
		default:
			return nil, badRequestObject("the request object's " + name + " has the wrong type")
		}
	}
	return params, nil
}
