package oidc

import (
	"errors"
	"net/http"
	"strings"
)

// serveUserInfo returns claims about the user an access token was issued
// for (OpenID Connect Core §5.3). The token is verified by signature, with no
// storage read; the claims come from the current user record.
func (p *Provider) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	token, err := p.bearerToken(w, r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	claims, err := p.verifyAccessToken(r.Context(), token)
	if err != nil {
		if errors.Is(err, errInvalidToken) {
			p.writeError(w, r, invalidToken("the access token is invalid or expired"))
		} else {
			p.writeError(w, r, internalError(err))
		}
		return
	}
	// One read: the token or its refresh family may have been revoked.
	revoked, err := p.cfg.Revocations.AccessTokenRevoked(r.Context(), claims.ID, claims.GrantID)
	switch {
	case err != nil:
		p.writeError(w, r, internalError(err))
		return
	case revoked:
		p.writeError(w, r, invalidToken("the access token was revoked"))
		return
	}
	user, err := p.cfg.Users.User(r.Context(), claims.Subject)
	switch {
	case isNotFound(err) || (err == nil && user.Disabled):
		p.writeError(w, r, invalidToken("the user no longer exists"))
		return
	case err != nil:
		p.writeError(w, r, internalError(err))
		return
	}
	if r.Header.Get("Origin") != "" {
		// An unknown client (removed, or the store failing) gets only the
		// provider-wide origins.
		client, _ := p.cfg.Clients.Client(r.Context(), claims.ClientID)
		p.narrowCORS(w, r, client)
	}
	body := userClaims(user, strings.Fields(claims.Scope), claims.UserInfoClaims)
	body["sub"] = claims.Subject
	writeJSON(w, http.StatusOK, body)
}

// bearerToken reads the access token from the Authorization header or, for
// a form POST, the access_token field (RFC 6750 §2.1, §2.2); never both.
func (p *Provider) bearerToken(w http.ResponseWriter, r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	var form string
	if r.Method == http.MethodPost && strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		params, err := p.readParams(w, r, false)
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
