package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// prompt values (OpenID Connect Core §3.1.2.1).
const (
	promptNone          = "none"
	promptLogin         = "login"
	promptConsent       = "consent"
	promptSelectAccount = "select_account"
)

// maxFormBytes bounds every request body the provider parses.
const maxFormBytes = 64 << 10

// maxParamLength bounds free-form parameters echoed or stored (state, nonce,
// login_hint), so one request cannot bloat a stored item.
const maxParamLength = 2048

// serveAuthorize validates an authorization request (RFC 6749 §4.1.1,
// OpenID Connect Core §3.1.2.1), stores it as pending and shows the login form.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	params, err := p.readParams(w, r, true)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	req, err := p.validateAuthorize(r, params)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	p.authorize(w, r, req)
}

// readParams returns the parameters of a GET query or a POSTed form; a
// parameter given twice is an error (RFC 6749 §3.1). page says whether
// errors are shown as a page (front channel) or as JSON.
func (p *Provider) readParams(w http.ResponseWriter, r *http.Request, page bool) (url.Values, error) {
	var params url.Values
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			e := errorf(ErrCodeInvalidRequest, "the request body is not a valid form or is too large")
			if tooLarge(err) {
				e.Status = http.StatusRequestEntityTooLarge
			}
			e.Page = page
			return nil, e
		}
		params = r.PostForm
	} else {
		var err error
		if params, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return nil, &Error{Code: ErrCodeInvalidRequest, Description: "the query string is malformed", Page: page}
		}
	}
	for name, values := range params {
		if len(values) > 1 {
			return nil, &Error{Code: ErrCodeInvalidRequest, Description: "parameter " + name + " given more than once", Page: page}
		}
	}
	return params, nil
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// validateAuthorize checks the request in the order RFC 6749 §4.1.2.1
// demands: until client_id and redirect_uri are proven, errors are shown to
// the user and never redirected (no open redirector, RFC 9700 §4.11.1);
// afterwards they go back to the client, in the response mode a success
// would use, with state and iss.
func (p *Provider) validateAuthorize(r *http.Request, params url.Values) (AuthRequest, error) {
	clientID := params.Get("client_id")
	if clientID == "" {
		return AuthRequest{}, &Error{Code: ErrCodeInvalidRequest, Description: "client_id is missing", Page: true}
	}
	client, err := p.cfg.Clients.Client(r.Context(), clientID)
	if err != nil {
		if isNotFound(err) {
			return AuthRequest{}, &Error{Code: ErrCodeInvalidRequest, Description: "unknown client", Page: true}
		}
		return AuthRequest{}, internalPageError(err)
	}
	redirectURI := params.Get("redirect_uri")
	if redirectURI == "" {
		// OpenID Connect Core §3.1.2.1: redirect_uri is REQUIRED.
		return AuthRequest{}, &Error{Code: ErrCodeInvalidRequest, Description: "redirect_uri is missing", Page: true}
	}
	if !redirectURIAllowed(client, redirectURI) {
		return AuthRequest{}, &Error{Code: ErrCodeInvalidRequest, Description: "redirect_uri is not registered for this client", Page: true}
	}

	// From here on the client learns of errors at its redirect URI.
	state := params.Get("state")
	rawType := params.Get("response_type")
	responseType, typeOK := parseResponseType(rawType)
	requestedMode := params.Get("response_mode")
	modeOK := requestedMode == "" || slices.Contains(responseModes, requestedMode)
	mode := requestedMode
	if !modeOK || mode == "" || (mode == responseModeQuery && responseType != "code" && typeOK) ||
		(mode == responseModeFormPost && !isHTTPURL(redirectURI)) {
		// Errors go where a success would: fragment for anything that
		// returns a token, even when the query was asked for.
		mode = defaultResponseMode(responseType, rawType)
	}
	failWith := func(e *Error) (AuthRequest, error) {
		e.redirect = &authResponse{redirectURI: redirectURI, mode: mode, state: state, post: r.Method == http.MethodPost}
		return AuthRequest{}, e
	}
	fail := func(code, description string) (AuthRequest, error) { return failWith(errorf(code, description)) }
	if len(state) > maxParamLength {
		state = ""
		return fail(ErrCodeInvalidRequest, "state is too long")
	}
	if !modeOK {
		return fail(ErrCodeInvalidRequest, "unsupported response_mode")
	}
	if params.Has("request") {
		return fail(ErrCodeRequestNotSupported, "request objects are not supported")
	}
	if params.Has("request_uri") {
		return fail(ErrCodeRequestURINotSupported, "request_uri is not supported")
	}
	switch {
	case rawType == "":
		return fail(ErrCodeInvalidRequest, "response_type is missing")
	case !typeOK || !p.responseTypeEnabled(responseType):
		return fail(ErrCodeUnsupportedResponseType, "response_type is not supported")
	case requestedMode == responseModeQuery && responseType != "code":
		// OAuth 2.0 Multiple Response Type Encoding §5: tokens never in the query.
		return fail(ErrCodeInvalidRequest, "response_mode=query cannot carry tokens")
	case redirectURI == redirectOOB && responseType != "code":
		return fail(ErrCodeInvalidRequest, "the out-of-band redirect URI supports response_type=code only")
	case requestedMode == responseModeFormPost && !isHTTPURL(redirectURI):
		// A browser can only POST a form to http(s); a private-use scheme
		// would leave the code on our own page.
		return fail(ErrCodeInvalidRequest, "response_mode=form_post needs an http or https redirect URI")
	}
	scopes := strings.Fields(params.Get("scope"))
	if !slices.Contains(scopes, ScopeOpenID) {
		return fail(ErrCodeInvalidScope, "scope must contain openid")
	}
	for _, peer := range peerAudiences(scopes) {
		if !p.trustsPeer(r.Context(), peer, client.ID) {
			return fail(ErrCodeInvalidScope, "an audience:server:client_id scope names a client that does not trust this client")
		}
	}
	nonce, loginHint := params.Get("nonce"), params.Get("login_hint")
	if len(nonce) > maxParamLength || len(loginHint) > maxParamLength {
		return fail(ErrCodeInvalidRequest, "nonce or login_hint is too long")
	}
	if nonce == "" && strings.Contains(responseType, "id_token") {
		// OpenID Connect Core §3.2.2.1, §3.3.2.11: an ID token from the
		// authorization endpoint must be bound to the client's session.
		return fail(ErrCodeInvalidRequest, "nonce is required when an ID token is returned from the authorization endpoint")
	}
	claims, err := parseClaimsRequest(params.Get("claims"))
	if err != nil || len(claims) > maxParamLength {
		return fail(ErrCodeInvalidRequest, errClaimsParameter.Error())
	}

	challenge, method := params.Get("code_challenge"), params.Get("code_challenge_method")
	usesCode := strings.HasPrefix(responseType, "code")
	switch {
	case challenge == "" && method != "":
		return fail(ErrCodeInvalidRequest, "code_challenge_method without code_challenge")
	case challenge == "" && client.Public && usesCode:
		// RFC 9700 §2.1.1, RFC 8252 §8.1: public clients MUST use PKCE.
		return fail(ErrCodeInvalidRequest, "code_challenge is required for public clients")
	case challenge != "" && method != pkceS256:
		// RFC 7636 §4.3 defaults to plain, which is not offered.
		return fail(ErrCodeInvalidRequest, "code_challenge_method must be S256")
	case challenge != "" && !validCodeChallenge(challenge):
		return fail(ErrCodeInvalidRequest, "code_challenge is malformed")
	}

	prompts := strings.Fields(params.Get("prompt"))
	for _, v := range prompts {
		if !slices.Contains([]string{promptNone, promptLogin, promptConsent, promptSelectAccount}, v) {
			return fail(ErrCodeInvalidRequest, "unknown prompt value")
		}
	}
	if slices.Contains(prompts, promptNone) && len(prompts) > 1 {
		return fail(ErrCodeInvalidRequest, "prompt=none cannot be combined with other values")
	}
	var hintSubject string
	if raw := params.Get("id_token_hint"); raw != "" {
		hint, err := p.parseIDTokenHint(r.Context(), raw)
		if err != nil {
			if !isInvalidToken(err) {
				return failWith(internalError(err)) // the key set could not be loaded
			}
			return fail(ErrCodeInvalidRequest, "id_token_hint is not an ID token issued by this provider")
		}
		hintSubject = hint.Subject
	}
	maxAge := -1
	if v := params.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fail(ErrCodeInvalidRequest, "max_age must be a non-negative integer")
		}
		maxAge = n
	}
	return AuthRequest{
		HintSubject:         hintSubject,
		ClientID:            client.ID,
		RedirectURI:         redirectURI,
		ResponseType:        responseType,
		ResponseMode:        mode,
		Scopes:              scopes,
		State:               state,
		Nonce:               nonce,
		CodeChallenge:       challenge,
		CodeChallengeMethod: method,
		Prompt:              prompts,
		MaxAge:              maxAge,
		LoginHint:           loginHint,
		Claims:              claims,
	}, nil
}

// unverifiable reports whether a request of client with redirectURI could
// come from any app on the device (RFC 8252 §8.6): a public client
// redirecting out of band or to a private-use scheme.
func unverifiable(client Client, redirectURI string) bool {
	return client.Public && (redirectURI == redirectOOB || !isHTTPURL(redirectURI))
}

// authorize answers a valid request: silently from the single sign-on
// session when it suffices (OpenID Connect Core §3.1.2.3), otherwise with
// the login or the approval page; prompt=none never shows a page and
// answers login_required or consent_required instead (§3.1.2.6).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request, req AuthRequest) {
	ctx := r.Context()
	session, ok, err := p.currentSession(ctx, r)
	if err != nil {
		p.writeError(w, r, p.frontChannelError(req, internalError(err)))
		return
	}
	silent := slices.Contains(req.Prompt, promptNone)
	login := !ok || slices.Contains(req.Prompt, promptLogin) || slices.Contains(req.Prompt, promptSelectAccount) ||
		(req.MaxAge == 0) || (req.MaxAge > 0 && p.now().Sub(session.AuthTime) > time.Duration(req.MaxAge)*time.Second) ||
		(req.HintSubject != "" && req.HintSubject != session.Subject)
	if login {
		if silent {
			p.writeError(w, r, p.frontChannelError(req, errorf(ErrCodeLoginRequired, "the user must log in")))
			return
		}
		p.startLogin(w, r, req)
		return
	}
	req.Subject, req.AuthTime, req.AMR = session.Subject, session.AuthTime, session.AMR
	consent, err := p.needsConsent(ctx, req)
	if err != nil {
		p.writeError(w, r, p.frontChannelError(req, internalError(err)))
		return
	}
	if consent {
		if silent {
			p.writeError(w, r, p.frontChannelError(req, errorf(ErrCodeConsentRequired, "the user must approve this client")))
			return
		}
		p.startConsent(w, r, req)
		return
	}
	var resp authResponse
	err = p.besides(ctx, "recording session activity",
		func() error { return p.touch(ctx, session) },
		func() (err error) { resp, err = p.issue(ctx, req); return err },
	)
	if err != nil {
		p.writeError(w, r, p.issueError(req, err))
		return
	}
	p.deliver(w, r, resp)
}

// trustsPeer reports whether client peer lists client in trustedPeers, so
// that client may obtain ID tokens with peer in the audience (Dex's
// cross-client trust).
func (p *Provider) trustsPeer(ctx context.Context, peer, client string) bool {
	if peer == client {
		return true
	}
	c, err := p.cfg.Clients.Client(ctx, peer)
	return err == nil && slices.Contains(c.TrustedPeers, client)
}
