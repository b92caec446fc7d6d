package oidc

import (
	"errors"
	"net/http"
	"strings"
)

// UserInfo serves the UserInfo endpoint (OpenID Connect Core §5.3): the
// userinfo function. Access tokens are verified by signature; one read
// checks revocation, one the user.
type UserInfo struct {
	base
	clients     ClientStore
	users       UserStore
	revocations RevocationStore
	handler     http.Handler
}

// UserInfoBackends are what the userinfo endpoint reads.
type UserInfoBackends struct {
	Clients     ClientStore
	Users       UserStore
	Revocations RevocationStore
	Signer      Signer // its published keys verify access tokens
}

// NewUserInfo builds the userinfo endpoint. It does no I/O.
func NewUserInfo(s Settings, b UserInfoBackends) (*UserInfo, error) {
	if b.Clients == nil || b.Users == nil || b.Revocations == nil || b.Signer == nil {
		return nil, errMissingBackend("userinfo", "Clients", "Users", "Revocations", "Signer")
	}
	base, err := newBase(s, b.Signer)
	if err != nil {
		return nil, err
	}
	u := &UserInfo{base: base, clients: b.Clients, users: b.Users, revocations: b.Revocations}
	u.handler = u.router(u.handlers(), FunctionUserInfo)
	return u, nil
}

// Handler serves the userinfo function's routes.
func (u *UserInfo) Handler() http.Handler { return u.handler }

func (u *UserInfo) handlers() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{PathUserInfo: u.serveUserInfo}
}

// serveUserInfo returns claims about the user an access token was issued
// for (OpenID Connect Core §5.3). The token is verified by signature, with no
// storage read; the claims come from the current user record.
func (u *UserInfo) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	token, err := u.bearerToken(w, r)
	if err != nil {
		u.writeError(w, r, err)
		return
	}
	claims, err := u.verifyAccessToken(r.Context(), token)
	if err != nil {
		if errors.Is(err, errInvalidToken) {
			u.writeError(w, r, invalidToken("the access token is invalid or expired"))
		} else {
			u.writeError(w, r, internalError(err))
		}
		return
	}
	// One read: the token or its refresh family may have been revoked.
	revoked, err := u.revocations.AccessTokenRevoked(r.Context(), claims.ID, claims.GrantID)
	switch {
	case err != nil:
		u.writeError(w, r, internalError(err))
		return
	case revoked:
		u.writeError(w, r, invalidToken("the access token was revoked"))
		return
	}
	user, err := u.users.User(r.Context(), claims.Subject)
	switch {
	case isNotFound(err) || (err == nil && user.Disabled):
		u.writeError(w, r, invalidToken("the user no longer exists"))
		return
	case err != nil:
		u.writeError(w, r, internalError(err))
		return
	}
	if r.Header.Get("Origin") != "" {
		// An unknown client (removed, or the store failing) gets only the
		// provider-wide origins.
		client, _ := u.clients.Client(r.Context(), claims.ClientID)
		u.narrowCORS(w, r, client)
	}
	body := userClaims(user, strings.Fields(claims.Scope), claims.UserInfoClaims)
	body["sub"] = claims.Subject
	writeJSON(w, http.StatusOK, body)
}

// bearerToken reads the access token from the Authorization header or, for
// a form POST, the access_token field (RFC 6750 §2.1, §2.2); never both.
func (u *UserInfo) bearerToken(w http.ResponseWriter, r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	var form string
	if r.Method == http.MethodPost && strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		params, err := readParams(w, r, false)
		if err != nil {
			return "", err
		}
		form = params.Get("access_token")
	}
	switch {
	case header != "" && form != "":
		return "", errorf(ErrCodeInvalidRequest, "send the access token in one place only")
	case form != "":
		return form, nil
	case header == "":
		return "", invalidToken("no access token")
	}
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", invalidToken("the Authorization header is not a Bearer token")
	}
	return token, nil
}

// invalidToken is 401 with a Bearer challenge (RFC 6750 §3.1).
func invalidToken(description string) *Error {
	return &Error{Code: ErrCodeInvalidToken, Description: description, Status: http.StatusUnauthorized,
		WWWAuthenticate: bearerChallenge(ErrCodeInvalidToken, description)}
}
