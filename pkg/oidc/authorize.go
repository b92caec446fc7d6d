package oidc

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
	p.startLogin(w, r, req)
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
	return asError(err, &mbe)
}

// validateAuthorize checks the request in the order RFC 6749 §4.1.2.1
// demands: until client_id and redirect_uri are proven, errors are shown to
// the user and never redirected (no open redirector, RFC 9700 §4.11.1);
// afterwards they go back to the client with state and iss.
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
		e := internalError(err)
		e.Page = true
		return AuthRequest{}, e
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
	fail := func(code, description string) (AuthRequest, error) {
		return AuthRequest{}, &Error{Code: code, Description: description,
			redirect: &authResponse{redirectURI: redirectURI, state: state, post: r.Method == http.MethodPost}}
	}
	if len(state) > maxParamLength {
		return fail(ErrCodeInvalidRequest, "state is too long")
	}
	if params.Has("request") {
		return fail(ErrCodeRequestNotSupported, "request objects are not supported")
	}
	if params.Has("request_uri") {
		return fail(ErrCodeRequestURINotSupported, "request_uri is not supported")
	}
	if mode := params.Get("response_mode"); mode != "" && mode != "query" {
		return fail(ErrCodeInvalidRequest, "unsupported response_mode")
	}
	switch rt := params.Get("response_type"); rt {
	case "":
		return fail(ErrCodeInvalidRequest, "response_type is missing")
	case "code":
	default:
		return fail(ErrCodeUnsupportedResponseType, "only response_type=code is supported")
	}
	scopes := strings.Fields(params.Get("scope"))
	if !slices.Contains(scopes, ScopeOpenID) {
		return fail(ErrCodeInvalidScope, "scope must contain openid")
	}
	nonce, loginHint := params.Get("nonce"), params.Get("login_hint")
	if len(nonce) > maxParamLength || len(loginHint) > maxParamLength {
		return fail(ErrCodeInvalidRequest, "nonce or login_hint is too long")
	}

	challenge, method := params.Get("code_challenge"), params.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return fail(ErrCodeInvalidRequest, "code_challenge_method without code_challenge")
	case challenge == "" && client.Public:
		// RFC 9700 §2.1.1: public clients MUST use PKCE.
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
	if slices.Contains(prompts, promptNone) {
		if len(prompts) > 1 {
			return fail(ErrCodeInvalidRequest, "prompt=none cannot be combined with other values")
		}
		// No single sign-on session exists without a login page, so a
		// silent request cannot succeed (OpenID Connect Core §3.1.2.6).
		return fail(ErrCodeLoginRequired, "the user must log in")
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
		ClientID:            client.ID,
		RedirectURI:         redirectURI,
		ResponseType:        "code",
		ResponseMode:        "query",
		Scopes:              scopes,
		State:               state,
		Nonce:               nonce,
		CodeChallenge:       challenge,
		CodeChallengeMethod: method,
		Prompt:              prompts,
		MaxAge:              maxAge,
		LoginHint:           loginHint,
	}, nil
}

// redirectURIAllowed compares exactly, character for character, with the
// registered URIs (RFC 9700 §4.1.3: no pattern or prefix matching).
func redirectURIAllowed(c Client, uri string) bool {
	return slices.Contains(c.RedirectURIs, uri)
}

// authResponse is a front-channel answer to the client's redirect URI.
type authResponse struct {
	redirectURI string
	state       string
	post        bool // answering a POST: use 303 (RFC 9700 §4.12)
	params      url.Values
}

// deliver redirects the browser to the client with params, state and iss
// (RFC 9207) in the query (response_mode=query, the default for code).
func (p *Provider) deliver(w http.ResponseWriter, r *http.Request, resp authResponse) {
	params := resp.params
	if params == nil {
		params = url.Values{}
	}
	if resp.state != "" {
		params.Set("state", resp.state)
	}
	params.Set("iss", p.cfg.Issuer)
	target := resp.redirectURI
	if strings.Contains(target, "?") {
		target += "&" + params.Encode()
	} else {
		target += "?" + params.Encode()
	}
	status := http.StatusFound
	if resp.post || r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	h := w.Header()
	h.Set("Location", target)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
}
