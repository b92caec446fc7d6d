package oidc

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Validation of an authorization request, in the two phases RFC 6749
// §4.1.2.1 demands: first prove the client and its redirect URI, and until
// then show errors to the user and never redirect (no open redirector,
// RFC 9700 §4.11.1); then check everything else, sending errors back to the
// client, in the response mode a success would use, with state and iss.

// prompt values (OpenID Connect Core §3.1.2.1).
const (
	promptNone          = "none"
	promptLogin         = "login"
	promptConsent       = "consent"
	promptSelectAccount = "select_account"
)

var prompts = []string{promptNone, promptLogin, promptConsent, promptSelectAccount}

// authValidator validates authorization requests: the authorize
// function's authorization endpoint and the token function's PAR endpoint
// (RFC 9126 §2.1: a pushed request is validated as the authorization
// endpoint would) share it.
type authValidator struct {
	*base
	clients    ClientStore
	connectors connectors
}

// validate returns the request to store, or the error to answer.
// pushed says the parameters came from PAR, which the provider or the
// client may require (RFC 9126 §5, §6).
func (a *authValidator) validate(r *http.Request, params url.Values, pushed bool) (AuthRequest, error) {
	client, redirectURI, err := a.proveClient(r.Context(), params)
	if err != nil {
		return AuthRequest{}, err
	}
	if e := checkProfileRedirect(client, redirectURI); e != nil {
		return AuthRequest{}, e
	}
	return a.checkParams(r, params, client, redirectURI, pushed)
}

// proveClient is the first phase: a known client and one of its
// registered redirect URIs. Its errors are pages.
func (a *authValidator) proveClient(ctx context.Context, params url.Values) (Client, string, error) {
	clientID := params.Get("client_id")
	if clientID == "" {
		return Client{}, "", &Error{Code: ErrCodeInvalidRequest, Description: "client_id is missing", Page: true}
	}
	client, err := a.clients.Client(ctx, clientID)
	if err != nil {
		if isNotFound(err) {
			return Client{}, "", &Error{Code: ErrCodeInvalidRequest, Description: "unknown client", Page: true}
		}
		return Client{}, "", internalPageError(err)
	}
	redirectURI := params.Get("redirect_uri")
	if redirectURI == "" {
		// OpenID Connect Core §3.1.2.1: redirect_uri is REQUIRED.
		return Client{}, "", &Error{Code: ErrCodeInvalidRequest, Description: "redirect_uri is missing", Page: true}
	}
	if !redirectURIAllowed(client, redirectURI) {
		return Client{}, "", &Error{Code: ErrCodeInvalidRequest, Description: "redirect_uri is not registered for this client", Page: true}
	}
	return client, redirectURI, nil
}

// checkParams is the second phase: every other parameter, with errors
// going back to the client's proven redirect URI.
func (a *authValidator) checkParams(r *http.Request, params url.Values, client Client, redirectURI string, pushed bool) (AuthRequest, error) {
	state := params.Get("state")
	rawType := params.Get("response_type")
	responseType, typeOK := parseResponseType(rawType)
	requestedMode := params.Get("response_mode")
	mode, modeOK := responseModeFor(requestedMode, rawType, responseType, typeOK, redirectURI)
	fail := func(e *Error) (AuthRequest, error) {
		e.redirect = &authResponse{redirectURI: redirectURI, mode: mode, state: state, post: r.Method == http.MethodPost}
		return AuthRequest{}, e
	}
	if len(state) > maxParamLength {
		state = ""
		return fail(errorf(ErrCodeInvalidRequest, "state is too long"))
	}
	if !modeOK {
		return fail(errorf(ErrCodeInvalidRequest, "unsupported response_mode"))
	}
	if !pushed && (a.s.PAR.Required || client.RequirePAR) {
		// RFC 9126 §5: the request MUST be refused.
		return fail(errorf(ErrCodeInvalidRequest, "authorization requests of this client must be pushed (PAR)"))
	}
	if e := a.checkResponseType(params, rawType, responseType, typeOK, requestedMode, redirectURI); e != nil {
		return fail(e)
	}
	if e := checkProfileAuthorization(client, responseType, params); e != nil {
		return fail(e)
	}
	if !clientMayUse(client, GrantAuthorizationCode) {
		// A client whose grantTypes leave out authorization_code (a
		// service, a CLI of the password grant) has no business at the
		// authorization endpoint: no login, no session, no code for it.
		return fail(errorf(ErrCodeUnauthorizedClient, "this client may not use the authorization endpoint"))
	}
	connectorID, e := checkConnector(r.Context(), a.log, a.connectors, params, client)
	if e != nil {
		return fail(e)
	}
	scopes, resources, e := checkScopes(r.Context(), a.clients, a.apis(), params, client)
	if e != nil {
		return fail(e)
	}
	nonce, loginHint := params.Get("nonce"), params.Get("login_hint")
	if len(nonce) > maxParamLength || len(loginHint) > maxParamLength {
		return fail(errorf(ErrCodeInvalidRequest, "nonce or login_hint is too long"))
	}
	if nonce == "" && strings.Contains(responseType, "id_token") {
		// OpenID Connect Core §3.2.2.1, §3.3.2.11: an ID token from the
		// authorization endpoint must be bound to the client's session.
		return fail(errorf(ErrCodeInvalidRequest, "nonce is required when an ID token is returned from the authorization endpoint"))
	}
	claims, err := parseClaimsRequest(params.Get("claims"))
	if err != nil || len(claims) > maxParamLength {
		return fail(errorf(ErrCodeInvalidRequest, errClaimsParameter.Error()))
	}
	if e := checkPKCE(params, client, responseType, a.s.RequirePKCE); e != nil {
		return fail(e)
	}
	if jkt := params.Get("dpop_jkt"); jkt != "" && !validJKT(jkt) {
		// RFC 9449 §10: a JWK SHA-256 thumbprint, base64url.
		return fail(errorf(ErrCodeInvalidRequest, "dpop_jkt is not a JWK SHA-256 thumbprint"))
	}
	req := AuthRequest{
		ClientID: client.ID, RedirectURI: redirectURI, ResponseType: responseType, ResponseMode: mode,
		// Only understood scopes are kept, once: everything downstream
		// (consent, codes, tokens) works on the granted set.
		Scopes: scopes, Resources: resources, State: state, Nonce: nonce, LoginHint: loginHint, Claims: claims, ConnectorID: connectorID,
		CodeChallenge: params.Get("code_challenge"), CodeChallengeMethod: params.Get("code_challenge_method"),
		DPoPJKT: params.Get("dpop_jkt"),
	}
	if e := a.checkSessionParams(r.Context(), params, &req); e != nil {
		return fail(e)
	}
	return req, nil
}

// checkScopes checks scope and resource: openid among the scopes, the
// peers of audience scopes trusting the client, and each resource one the
// client may name (RFC 8707 §2, else invalid_target). It returns the
// scopes kept (understood OpenID scopes and the API scopes of the
// resources: requestScopes) and the resources.
func checkScopes(ctx context.Context, clients ClientStore, apis apis, params url.Values, client Client) ([]string, []string, *Error) {
	scopes := strings.Fields(params.Get("scope"))
	if !slices.Contains(scopes, ScopeOpenID) {
		return nil, nil, errorf(ErrCodeInvalidScope, "scope must contain openid")
	}
	for _, peer := range peerAudiences(scopes) {
		switch ok, err := trustsPeer(ctx, clients, peer, client.ID); {
		case err != nil:
			return nil, nil, internalError(err)
		case !ok:
			return nil, nil, errorf(ErrCodeInvalidScope, errUntrustedPeer)
		}
	}
	resources, e := apis.userTargets(client, params["resource"])
	if e != nil {
		return nil, nil, e
	}
	if scopes, e = apis.requestScopes(scopes, resources); e != nil {
		return nil, nil, e
	}
	return scopes, resources, nil
}

// checkConnector checks the connectors of a request: the client must allow
// one that exists (the refusal is logged: it is the configuration's
// doing), and connector_id (Dex's choice of connector, skipping its
// selection page) must name one of those. It returns connector_id.
func checkConnector(ctx context.Context, log *slog.Logger, cs connectors, params url.Values, client Client) (string, *Error) {
	if len(cs.allowed(client)) == 0 {
		log.WarnContext(ctx, "authorization refused: the client's allowedConnectors name no configured connector",
			"client_id", client.ID, "request_id", RequestID(ctx))
		return "", errorf(ErrCodeAccessDenied, "no connector allowed for this client")
	}
	id := params.Get("connector_id")
	if id == "" {
		return "", nil
	}
	if _, ok := cs.byID(id); !ok {
		return "", errorf(ErrCodeInvalidRequest, "unknown connector")
	}
	if !connectorAllowed(client, id) {
		log.WarnContext(ctx, "authorization refused: connector_id names a connector the client's allowedConnectors leave out",
			"client_id", client.ID, "request_id", RequestID(ctx))
		return "", errorf(ErrCodeAccessDenied, "this connector is not allowed for this client")
	}
	return id, nil
}

// responseModeFor is where answers go: the requested mode when it is
// usable, otherwise where a success would go (fragment for anything that
// returns a token, even when the query was asked for). ok is false for an
// unknown mode.
func responseModeFor(requested, rawType, responseType string, typeOK bool, redirectURI string) (mode string, ok bool) {
	ok = requested == "" || slices.Contains(responseModes, requested)
	if !ok || requested == "" || (requested == responseModeQuery && responseType != "code" && typeOK) ||
		(requested == responseModeFormPost && !isHTTPURL(redirectURI)) {
		return defaultResponseMode(responseType, rawType), ok
	}
	return requested, ok
}

// checkResponseType checks response_type, request objects and the response
// mode against the redirect URI.
func (a *authValidator) checkResponseType(params url.Values, rawType, responseType string, typeOK bool, requestedMode, redirectURI string) *Error {
	switch {
	case params.Has("request"):
		return errorf(ErrCodeRequestNotSupported, "request objects are not supported")
	case params.Has("request_uri"):
		// Only PAR's (authsource.go): a URL is never fetched.
		return errorf(ErrCodeRequestURINotSupported, "request_uri is supported only from the pushed authorization request endpoint")
	case rawType == "":
		return errorf(ErrCodeInvalidRequest, "response_type is missing")
	case !typeOK || !responseTypeEnabled(a.s.ResponseTypes, responseType):
		return errorf(ErrCodeUnsupportedResponseType, "response_type is not supported")
	case requestedMode == responseModeQuery && responseType != "code":
		// OAuth 2.0 Multiple Response Type Encoding §5: tokens never in the query.
		return errorf(ErrCodeInvalidRequest, "response_mode=query cannot carry tokens")
	case redirectURI == redirectOOB && responseType != "code":
		return errorf(ErrCodeInvalidRequest, "the out-of-band redirect URI supports response_type=code only")
	case requestedMode == responseModeFormPost && !isHTTPURL(redirectURI):
		// A browser can only POST a form to http(s); a private-use scheme
		// would leave the code on our own page.
		return errorf(ErrCodeInvalidRequest, "response_mode=form_post needs an http or https redirect URI")
	}
	return nil
}

// checkPKCE checks code_challenge and its method (RFC 7636 §4.3). With
// required (Settings.RequirePKCE) every client must send a challenge when
// a code is issued; public clients always must.
func checkPKCE(params url.Values, client Client, responseType string, required bool) *Error {
	challenge, method := params.Get("code_challenge"), params.Get("code_challenge_method")
	issuesCode := strings.HasPrefix(responseType, "code")
	switch {
	case challenge == "" && method != "":
		return errorf(ErrCodeInvalidRequest, "code_challenge_method without code_challenge")
	case challenge == "" && client.Public && issuesCode:
		// RFC 9700 §2.1.1, RFC 8252 §8.1: public clients MUST use PKCE.
		return errorf(ErrCodeInvalidRequest, "code_challenge is required for public clients")
	case challenge == "" && required && issuesCode:
		// OAuth 2.1 (Dex's oauth2.pkce.enforce): every client.
		return errorf(ErrCodeInvalidRequest, "code_challenge is required")
	case challenge != "" && method != pkceS256:
		// RFC 7636 §4.3 defaults to plain, which is not offered.
		return errorf(ErrCodeInvalidRequest, "code_challenge_method must be S256")
	case challenge != "" && !validCodeChallenge(challenge):
		return errorf(ErrCodeInvalidRequest, "code_challenge is malformed")
	}
	return nil
}

// checkSessionParams reads what the request says about the user's session
// (OpenID Connect Core §3.1.2.1): prompt, id_token_hint and max_age.
func (a *authValidator) checkSessionParams(ctx context.Context, params url.Values, req *AuthRequest) *Error {
	req.Prompt = strings.Fields(params.Get("prompt"))
	for _, v := range req.Prompt {
		if !slices.Contains(prompts, v) {
			return errorf(ErrCodeInvalidRequest, "unknown prompt value")
		}
	}
	if slices.Contains(req.Prompt, promptNone) && len(req.Prompt) > 1 {
		return errorf(ErrCodeInvalidRequest, "prompt=none cannot be combined with other values")
	}
	if raw := params.Get("id_token_hint"); raw != "" {
		hint, err := a.parseIDTokenHint(ctx, raw)
		if err != nil {
			if !isInvalidToken(err) {
				return internalError(err) // the key set could not be loaded
			}
			return errorf(ErrCodeInvalidRequest, "id_token_hint is not an ID token issued by this provider")
		}
		req.HintSubject = hint.Subject
	}
	req.MaxAge = -1
	if v := params.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errorf(ErrCodeInvalidRequest, "max_age must be a non-negative integer")
		}
		req.MaxAge = n
	}
	return nil
}
