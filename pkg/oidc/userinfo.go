package oidc

import (
	"errors"
	"net/http"
	"slices"
	"strings"
)

// UserInfo serves the UserInfo endpoint (OpenID Connect Core §5.3): the
// userinfo function. Access tokens are verified by signature; one read
// checks revocation, one the user.
type UserInfo struct {
	base
	clients     ClientStore
	users       directory
	revocations RevocationStore
	dpop        dpopChecker
	handler     http.Handler
}

// UserInfoBackends are what the userinfo endpoint reads.
type UserInfoBackends struct {
	Clients     ClientStore
	Users       UserStore
	Revocations RevocationStore
	Signer      Signer // its published keys verify access tokens
	// Identities holds the users of callback connectors.
	Identities IdentityStore
	// ConnectorIDs are the configured connectors' ids (Connector.ID): the
	// users of any other, a connector since removed, are unknown. Nil:
	// any connector's.
	ConnectorIDs []string
	// Replays remembers the jti of DPoP proofs (RFC 9449 §11.1); nil:
	// DPoP-bound tokens are refused.
	Replays ReplayStore
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
	b.Clients = withProfile(base.s, b.Clients)
	users := directory{users: b.Users, identities: b.Identities, plain: base.s.PlainSubjects, known: b.ConnectorIDs}
	u := &UserInfo{base: base, clients: b.Clients, users: users, revocations: b.Revocations}
	u.dpop = dpopChecker{b: &u.base, replays: b.Replays}
	u.handler = u.router(u.handlers(), FunctionUserInfo)
	return u, nil
}

// Handler serves the userinfo function's routes.
func (u *UserInfo) Handler() http.Handler { return u.handler }

func (u *UserInfo) handlers() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{PathUserInfo: u.serveUserInfo}
}

// serveUserInfo returns claims about the user an access token was issued
// for (OpenID Connect Core §5.3). The token is verified by signature (no
// KMS call); one read checks its revocation and one loads the current user
// record, which the claims come from.
func (u *UserInfo) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	u.dpop.offerNonce(w, r)
	body, client, err := u.userInfo(w, r)
	var e *Error
	if errors.As(err, &e) && e.WWWAuthenticate == "" && e.Code == ErrCodeInvalidRequest {
		// OpenID Connect Core §5.3.3: userinfo errors are RFC 6750 §3
		// errors, carried in the challenge, invalid_request too.
		e.WWWAuthenticate = bearerChallenge(e.Code, e.Description)
	}
	if err == nil && client.UserInfoSigningAlg != "" {
		err = u.writeSigned(w, r, body, client)
	}
	if err != nil {
		u.writeError(w, r, err)
		return
	}
	if client.UserInfoSigningAlg == "" {
		writeJSON(w, http.StatusOK, body)
	}
}

func (u *UserInfo) userInfo(w http.ResponseWriter, r *http.Request) (map[string]any, Client, error) {
	token, dpop, err := u.bearerToken(w, r)
	if err != nil {
		return nil, Client{}, err
	}
	body, client, err := u.answer(w, r, token, dpop)
	if dpop {
		// RFC 9449 §7.1: a request with the DPoP scheme is answered with
		// a DPoP challenge.
		err = dpopScheme(err)
	}
	return body, client, err
}

// answer is userinfo's answer for an access token presented with the
// Bearer scheme (or in the form), or with the DPoP scheme when dpop.
func (u *UserInfo) answer(w http.ResponseWriter, r *http.Request, token string, dpop bool) (map[string]any, Client, error) {
	ctx := r.Context()
	claims, err := u.verifyAccessToken(ctx, token)
	switch {
	case errors.Is(err, errInvalidToken):
		return nil, Client{}, invalidToken("the access token is invalid or expired")
	case err != nil:
		return nil, Client{}, internalError(err)
	case isClientToken(claims):
		// A client credentials token has no user to answer about.
		return nil, Client{}, invalidToken("the access token was issued to a client for itself: it has no user")
	case !u.forUserInfo(claims):
		// RFC 9068 §4: a token exchanged for another resource server's
		// audience is not for this one.
		return nil, Client{}, invalidToken("the access token is for another audience")
	case !slices.Contains(strings.Fields(claims.Scope), ScopeOpenID):
		// OpenID Connect Core §5.3: userinfo answers for access tokens of
		// an OpenID request; a refresh narrowed to plain OAuth gives one
		// without openid (RFC 6750 §3.1: 403 insufficient_scope).
		return nil, Client{}, &Error{Code: ErrCodeInsufficientScope, Description: "the access token lacks the openid scope", Status: http.StatusForbidden,
			WWWAuthenticate: bearerChallenge(ErrCodeInsufficientScope, "the access token lacks the openid scope") + `, scope="openid"`}
	}
	if err := u.checkBinding(r, token, dpop, claims); err != nil {
		return nil, Client{}, err
	}
	// One read: the token or its refresh family may have been revoked.
	revoked, err := u.revocations.AccessTokenRevoked(ctx, claims.ID, claims.GrantID)
	switch {
	case err != nil:
		return nil, Client{}, internalError(err)
	case revoked:
		return nil, Client{}, invalidToken("the access token was revoked")
	}
	user, err := u.users.User(ctx, claims.Subject)
	switch {
	case isNotFound(err) || (err == nil && user.Disabled):
		return nil, Client{}, invalidToken("the user no longer exists")
	case err != nil:
		return nil, Client{}, internalError(err)
	}
	// A client since removed, disabled or whose registration was deleted
	// (RFC 7592 §2.3) no longer speaks for the user with its tokens. Static
	// clients are in memory and stored ones cached (ClientDirectory): this
	// read is rarely one.
	client, err := u.clients.Client(ctx, claims.ClientID)
	switch {
	case isNotFound(err):
		return nil, Client{}, invalidToken("the client the access token was issued to no longer exists")
	case err != nil:
		return nil, Client{}, internalError(err)
	}
	if r.Header.Get("Origin") != "" {
		u.narrowCORS(w, r, client)
	}
	body := userClaims(user, strings.Fields(claims.Scope), claims.UserInfoClaims)
	body["sub"] = claims.Subject
	return body, client, nil
}

// bearerToken reads the access token from the Authorization header or, for
// a form POST, the access_token field (RFC 6750 §2.1, §2.2); never both.
func (u *UserInfo) bearerToken(w http.ResponseWriter, r *http.Request) (token string, dpop bool, err error) {
	if len(r.Header.Values("Authorization")) > 1 {
		return "", false, errorf(ErrCodeInvalidRequest, "send one Authorization header")
	}
	header := r.Header.Get("Authorization")
	var form string
	if r.Method == http.MethodPost && strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		params, err := readParams(w, r, false)
		if err != nil {
			return "", false, err
		}
		form = params.Get("access_token")
	}
	scheme, token, _ := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	dpop = strings.EqualFold(scheme, TokenTypeDPoP)
	switch {
	case header != "" && form != "":
		return "", false, errorf(ErrCodeInvalidRequest, "send the access token in one place only")
	case form != "":
		return form, false, nil
	case header == "" || !(strings.EqualFold(scheme, "Bearer") || dpop):
		// RFC 6750 §3.1, RFC 9449 §7.1: no authentication information,
		// or another scheme: the challenges alone, with no error code.
		return "", false, &Error{Status: http.StatusUnauthorized, WWWAuthenticate: `Bearer realm="userinfo", ` + dpopChallenge("", ""), Description: "no bearer token"}
	case token == "":
		return "", false, invalidToken("the Authorization header carries no token")
	}
	return token, dpop, nil
}

// invalidToken is 401 with a Bearer challenge (RFC 6750 §3.1).
func invalidToken(description string) *Error {
	return &Error{Code: ErrCodeInvalidToken, Description: description, Status: http.StatusUnauthorized,
		WWWAuthenticate: bearerChallenge(ErrCodeInvalidToken, description)}
}

// checkBinding enforces RFC 9449 §7 on a verified access token: a
// DPoP-bound token (cnf.jkt) only with the DPoP scheme and a proof by its
// key for this request, with ath its hash; the DPoP scheme only for a
// bound token. A proof costs one conditional write (its jti).
func (u *UserInfo) checkBinding(r *http.Request, token string, dpop bool, claims *accessTokenClaims) error {
	switch {
	case claims.Cnf == nil && dpop:
		return invalidToken("the access token is not DPoP-bound: use the Bearer scheme")
	case claims.Cnf == nil:
		return nil
	case !dpop:
		// §7.2: a bound token presented as a bearer token is refused.
		const d = "the access token is DPoP-bound: use the DPoP scheme with a proof"
		return &Error{Code: ErrCodeInvalidToken, Description: d, Status: http.StatusUnauthorized, WWWAuthenticate: dpopChallenge(ErrCodeInvalidToken, d)}
	}
	jkt, err := u.dpop.proof(r, PathUserInfo, token, nil)
	switch {
	case err != nil:
		return resourceDPoPError(err)
	case jkt == "":
		return resourceDPoPError(dpopError("a DPoP proof is required"))
	case jkt != claims.Cnf.JKT:
		// §4.3 check 12: the proof's key is the one the token is bound to.
		return resourceDPoPError(dpopError("the DPoP proof is not by the access token's key"))
	}
	return nil
}

// dpopScheme rewrites the Bearer challenge of a userinfo error to the DPoP
// scheme (RFC 9449 §7.1) for a request that used it.
func dpopScheme(err error) error {
	var e *Error
	if errors.As(err, &e) && strings.HasPrefix(e.WWWAuthenticate, "Bearer error=") {
		e.WWWAuthenticate = dpopChallenge(e.Code, e.Description)
	}
	return err
}
