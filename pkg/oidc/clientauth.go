package oidc

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Client authentication at the back-channel endpoints (token, revocation,
// introspection, device authorization, PAR): client_secret_basic,
// client_secret_post, none, and private_key_jwt and client_secret_jwt
// (clientassertion.go).

// Client authentication methods (RFC 6749 §2.3, OAuth 2.0 Dynamic Client
// Registration §2).
const (
	authClientSecretBasic = "client_secret_basic"
	authClientSecretPost  = "client_secret_post"
	authNone              = "none"
)

// backChannelRequest parses a form POST and authenticates the client, as the
// token endpoint does.
//
// The answer is readable cross-origin only by the origins of the client
// that authenticated (and the provider-wide ones): until then, by the
// provider-wide origins alone.
func (t *Token) backChannelRequest(w http.ResponseWriter, r *http.Request) (url.Values, Client, error) {
	params, client, err := t.parseBackChannel(w, r)
	t.narrowCORS(w, r, client)
	return params, client, err
}

func (t *Token) parseBackChannel(w http.ResponseWriter, r *http.Request) (url.Values, Client, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return nil, Client{}, errorf(ErrCodeInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	params, err := readParams(w, r, false)
	if err != nil {
		return nil, Client{}, err
	}
	client, err := t.authenticateClient(r, params)
	if err != nil {
		return nil, Client{}, err
	}
	return params, client, nil
}

// authenticateClient implements client_secret_basic, client_secret_post and
// none (public clients, identified by client_id). A client uses exactly one
// method (RFC 6749 §2.3).
func (t *Token) authenticateClient(r *http.Request, params url.Values) (Client, error) {
	if len(r.Header.Values("Authorization")) > 1 {
		// RFC 6749 §5.2: more than one authentication mechanism; RFC 9110
		// §5.3: Authorization is a singleton field.
		return Client{}, errorf(ErrCodeInvalidRequest, "send one Authorization header")
	}
	id, secret := params.Get("client_id"), params.Get("client_secret")
	basic := r.Header.Get("Authorization") != ""
	if params.Has("client_assertion") || params.Has("client_assertion_type") {
		if basic || secret != "" {
			return Client{}, errorf(ErrCodeInvalidRequest, "use only one client authentication method")
		}
		return t.assertions.authenticate(r, params, t.clients)
	}
	if basic {
		bid, bsecret, err := parseBasicAuth(r.Header.Get("Authorization"))
		if err != nil {
			return Client{}, invalidClient(true, "malformed Authorization header")
		}
		if secret != "" {
			return Client{}, errorf(ErrCodeInvalidRequest, "use only one client authentication method")
		}
		if id != "" && id != bid {
			return Client{}, errorf(ErrCodeInvalidRequest, "client_id does not match the Authorization header")
		}
		id, secret = bid, bsecret
	}
	if id == "" {
		return Client{}, invalidClient(basic, "client authentication is missing")
	}
	client, err := t.clients.Client(r.Context(), id)
	if err != nil {
		if isNotFound(err) {
			return Client{}, invalidClient(basic, "client authentication failed")
		}
		return Client{}, internalError(err)
	}
	if !authMethodAllowed(client, basic, secret != "") {
		return Client{}, invalidClient(basic, "client authentication failed")
	}
	if client.Public {
		if secret != "" {
			return Client{}, invalidClient(basic, "public clients do not use a secret")
		}
		return client, nil
	}
	if secret == "" || client.SecretHash == "" || !secretMatches(secret, client.SecretHash) {
		return Client{}, invalidClient(basic, "client authentication failed")
	}
	return client, nil
}

// invalidClient is 401; after a Basic attempt it MUST carry a matching
// WWW-Authenticate challenge (RFC 6749 §5.2).
func invalidClient(basic bool, description string) *Error {
	e := &Error{Code: ErrCodeInvalidClient, Description: description, Status: http.StatusUnauthorized}
	if basic {
		e.WWWAuthenticate = `Basic realm="token", charset="UTF-8"`
	}
	return e
}

// parseBasicAuth decodes client_secret_basic: the id and secret are
// form-urlencoded before base64 (RFC 6749 §2.3.1).
func parseBasicAuth(header string) (string, string, error) {
	scheme, value, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", errMalformed
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return "", "", errMalformed
	}
	encID, encSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errMalformed
	}
	id, err1 := url.QueryUnescape(encID)
	secret, err2 := url.QueryUnescape(encSecret)
	if err1 != nil || err2 != nil || id == "" {
		return "", "", errMalformed
	}
	return id, secret, nil
}

var errMalformed = errors.New("oidc: malformed Basic credentials")

// authMethodAllowed reports whether the way a client authenticated
// (Basic, a secret in the body, or neither) is its registered
// TokenEndpointAuthMethod, when it has one (RFC 7591 §2).
func authMethodAllowed(c Client, basic, postSecret bool) bool {
	switch c.TokenEndpointAuthMethod {
	case authClientSecretBasic:
		return basic
	case authClientSecretPost:
		return !basic && postSecret
	case authPrivateKeyJWT, authClientSecretJWT:
		return false // only with client_assertion
	}
	return true // none: the public client checks below; empty: any
}
