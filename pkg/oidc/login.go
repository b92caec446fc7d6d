package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// The login and consent pages. A pending AuthRequest is reached through a
// random handle carried in the forms; it is bound to the browser that
// started it by a cookie, and each form carries a CSRF token, so neither a
// cross-site post nor a handle planted by an attacker (login CSRF,
// RFC 9700 §4.7) completes a login.

// amrPassword is the RFC 8176 method reference for a password login.
const amrPassword = "pwd"

// acrPassword is the authentication context class of a password login:
// single-factor, ISO/IEC 29115 level 1 ("0" would mean below level 1,
// OpenID Connect Core §2). acr_values are accepted; this is the only class.
const acrPassword = "1"

// storePending stores the validated request for the login or consent
// form and returns the form's handle and CSRF token.
func (p *Provider) storePending(w http.ResponseWriter, r *http.Request, req *AuthRequest) (handle, csrf string, err error) {
	if handle, err = newSecret(p.rand); err != nil {
		return "", "", err
	}
	if csrf, err = newSecret(p.rand); err != nil {
		return "", "", err
	}
	browser, err := p.browserBinding(w, r)
	if err != nil {
		return "", "", err
	}
	req.ID = HashSecret(handle)
	req.CSRFHash = HashSecret(csrf)
	req.BrowserHash = HashSecret(browser)
	req.Expiry = p.now().Add(p.cfg.AuthRequestLifetime)
	req.Version = 1
	return handle, csrf, p.cfg.AuthRequests.CreateAuthRequest(r.Context(), *req)
}

// startLogin stores the validated request and shows the login form.
func (p *Provider) startLogin(w http.ResponseWriter, r *http.Request, req AuthRequest) {
	handle, csrf, err := p.storePending(w, r, &req)
	if err != nil {
		p.writeError(w, r, p.frontChannelError(req, internalError(err)))
		return
	}
	p.renderLogin(w, r, http.StatusOK, loginPage{Handle: handle, CSRF: csrf, Login: req.LoginHint}, req)
}

// startConsent stores a request whose user is known from the session and
// shows the approval page.
func (p *Provider) startConsent(w http.ResponseWriter, r *http.Request, req AuthRequest) {
	handle, csrf, err := p.storePending(w, r, &req)
	if err != nil {
		p.writeError(w, r, p.frontChannelError(req, internalError(err)))
		return
	}
	p.renderConsent(w, r, req, handle, csrf)
}

// frontChannelError sends an error back to the client's (already validated)
// redirect URI.
func (p *Provider) frontChannelError(req AuthRequest, e *Error) *Error {
	e.redirect = &authResponse{redirectURI: req.RedirectURI, mode: req.ResponseMode, state: req.State}
	return e
}

// pendingRequest loads the AuthRequest a login or consent form refers to and
// checks that this browser started it and that the form is genuine.
func (p *Provider) pendingRequest(w http.ResponseWriter, r *http.Request) (AuthRequest, url.Values, string, error) {
	form, err := p.readParams(w, r, true)
	if err != nil {
		return AuthRequest{}, nil, "", err
	}
	handle, csrf := form.Get("req"), form.Get("csrf")
	if handle == "" {
		return AuthRequest{}, nil, "", &Error{Code: ErrCodeInvalidRequest, Description: "This login form is incomplete. Return to the application and sign in again.", Page: true}
	}
	req, err := p.cfg.AuthRequests.AuthRequest(r.Context(), HashSecret(handle))
	if err != nil {
		if isNotFound(err) {
			return AuthRequest{}, nil, "", &Error{Code: ErrCodeInvalidRequest, Description: "This login has expired or was already completed. Return to the application and sign in again.", Page: true}
		}
		return AuthRequest{}, nil, "", internalPageError(err)
	}
	cookie, _ := r.Cookie(p.cookieName(browserCookie))
	if csrf == "" || !secretMatches(csrf, req.CSRFHash) || cookie == nil || !secretMatches(cookie.Value, req.BrowserHash) {
		return AuthRequest{}, nil, "", &Error{Code: ErrCodeInvalidRequest, Description: "This form could not be verified (CSRF check failed). Return to the application and sign in again.", Status: http.StatusForbidden, Page: true}
	}
	return req, form, handle, nil
}

// serveLogin checks the password of the login form, starts the single
// sign-on session and continues to the approval page, or straight to the
// client when no approval is needed. The session write runs beside the
// request's own write: one round trip of latency.
func (p *Provider) serveLogin(w http.ResponseWriter, r *http.Request) {
	req, form, handle, err := p.pendingRequest(w, r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	if req.Subject != "" {
		p.writeError(w, r, &Error{Code: ErrCodeInvalidRequest, Description: "You are already signed in. Return to the application.", Page: true})
		return
	}
	ctx := r.Context()
	login, password := form.Get("login"), form.Get("password")
	keys := throttleKeys(login, clientIP(r))
	blocked, err := p.loginBlocked(ctx, keys)
	if err != nil {
		p.writeError(w, r, p.frontChannelError(req, internalError(err)))
		return
	}
	if blocked {
		p.log.WarnContext(ctx, "login throttled", "client_id", req.ClientID, "request_id", RequestID(ctx))
		p.renderLogin(w, r, http.StatusTooManyRequests, loginPage{Handle: handle, CSRF: form.Get("csrf"), Login: login,
			Error: "Too many failed sign-in attempts. Wait a few minutes and try again."}, req)
		return
	}
	user, err := p.checkPassword(ctx, login, password)
	if err != nil {
		if errors.Is(err, errBadCredentials) {
			if login != "" {
				p.recordLoginFailure(ctx, keys)
			}
			// One generic message: never reveal which accounts exist.
			p.renderLogin(w, r, http.StatusUnauthorized, loginPage{Handle: handle, CSRF: form.Get("csrf"), Login: login, Error: "Invalid email or password."}, req)
			return
		}
		p.writeError(w, r, p.frontChannelError(req, internalError(err)))
		return
	}
	if req.HintSubject != "" && req.HintSubject != user.Subject {
		// The id_token_hint named someone else (OpenID Connect Core
		// §3.1.2.1): the client asked about that user, not this one.
		wctx, cancel := detach(ctx)
		defer cancel()
		if err := p.cfg.AuthRequests.CompleteAuthRequest(wctx, req.ID, req.Version, nil); err != nil && !isNotFound(err) {
			p.log.WarnContext(ctx, "ending the pending request failed", "error", err, "request_id", RequestID(ctx))
		}
		p.writeError(w, r, p.frontChannelError(req, errorf(ErrCodeLoginRequired, "the signed-in user is not the one the id_token_hint names")))
		return
	}
	req.Subject = user.Subject
	req.AuthTime = p.now()
	req.AMR = []string{amrPassword}
	consent, err := p.needsConsent(ctx, req)
	if err != nil {
		p.writeError(w, r, p.frontChannelError(req, internalError(err)))
		return
	}
	var resp authResponse
	err = p.besides(ctx, "starting the single sign-on session",
		func() error { return p.newSession(ctx, w, r, req.Subject, req.AuthTime, req.AMR) },
		func() (err error) {
			if consent {
				return p.cfg.AuthRequests.UpdateAuthRequest(ctx, req)
			}
			resp, err = p.issue(ctx, req)
			return err
		},
	)
	if err != nil {
		p.writeError(w, r, p.issueError(req, err))
		return
	}
	if consent {
		req.Version++
		p.renderConsent(w, r, req, handle, form.Get("csrf"))
		return
	}
	p.deliver(w, r, resp)
}

// serveConsent records the user's decision on the approval page. An
// approval is remembered (beside issuing, concurrently); a denial answers
// access_denied.
func (p *Provider) serveConsent(w http.ResponseWriter, r *http.Request) {
	req, form, _, err := p.pendingRequest(w, r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	if req.Subject == "" {
		p.writeError(w, r, &Error{Code: ErrCodeInvalidRequest, Description: "Sign in before approving access.", Page: true})
		return
	}
	ctx := r.Context()
	if form.Get("approve") == "" {
		if err := p.cfg.AuthRequests.CompleteAuthRequest(ctx, req.ID, req.Version, nil); err != nil {
			p.writeError(w, r, p.pendingError(req, err))
			return
		}
		p.writeError(w, r, p.frontChannelError(req, errorf(ErrCodeAccessDenied, "the user denied the request")))
		return
	}
	var resp authResponse
	err = p.besides(ctx, "remembering consent",
		func() error { return p.rememberConsent(ctx, req) },
		func() (err error) { resp, err = p.issue(ctx, req); return err },
	)
	if err != nil {
		p.writeError(w, r, p.issueError(req, err))
		return
	}
	p.deliver(w, r, resp)
}

// pendingError explains a failed write of a pending request: a request
// completed or changed by a concurrent submission is shown as a page (the
// other submission already answered the client); anything else goes to the
// client as an error.
func (p *Provider) pendingError(req AuthRequest, err error) error {
	if isNotFound(err) || errors.Is(err, ErrConflict) {
		return &Error{Code: ErrCodeInvalidRequest, Description: "This login was already completed in another window. Return to the application.", Page: true, Cause: err}
	}
	return p.frontChannelError(req, internalError(err))
}

var errBadCredentials = errors.New("oidc: invalid credentials")

// dummyHash is compared against when the account does not exist, so that a
// login takes as long for unknown accounts as for known ones. A constant
// (bcrypt of a random string, cost 10): computing it at start would cost
// every cold start ~60 ms of CPU.
var dummyHash = []byte("$2a$10$BKgKVAv9MrcOxJZOHv2Ek.SZhwHbKmLXr3cE4ixcHBDiqtqUpqliS")

// checkPassword authenticates a user of the password database.
func (p *Provider) checkPassword(ctx context.Context, login, password string) (User, error) {
	if login == "" || password == "" || len(login) > maxParamLength || len(password) > 1024 {
		return User{}, errBadCredentials
	}
	user, err := p.cfg.Users.UserByLogin(ctx, login)
	if err != nil && !isNotFound(err) {
		return User{}, err
	}
	hash := user.PasswordHash
	if err != nil || len(hash) == 0 {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil || user.Disabled {
		return User{}, errBadCredentials
	}
	return user, nil
}

// Cookies. With an https issuer they carry the __Host- prefix (Secure,
// Path=/, no Domain: no subdomain can set or read them); on a loopback http
// issuer the prefix and Secure are dropped so local development works.
const browserCookie = "oidc_browser"

func (p *Provider) cookieName(base string) string {
	if p.secureCookies {
		return "__Host-" + base
	}
	return base
}

// browserBinding returns this browser's binding secret, setting the cookie
// when the browser has none. One value per browser lets logins in several
// tabs proceed side by side.
func (p *Provider) browserBinding(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(p.cookieName(browserCookie)); err == nil && len(c.Value) == 43 && isUnreserved(c.Value, false) {
		return c.Value, nil
	}
	v, err := newSecret(p.rand)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     p.cookieName(browserCookie),
		Value:    v,
		Path:     "/",
		HttpOnly: true,
		Secure:   p.secureCookies,
		SameSite: http.SameSiteLaxMode,
	})
	return v, nil
}

// scopeDescriptions are shown on the approval page.
var scopeDescriptions = map[string]string{
	ScopeOpenID:        "Sign you in",
	ScopeEmail:         "See your email address",
	ScopeProfile:       "See your name, username and profile details",
	ScopeAddress:       "See your postal address",
	ScopePhone:         "See your phone number",
	ScopeGroups:        "See the groups you belong to",
	ScopeFederatedID:   "See your account identifier",
	ScopeOfflineAccess: "Stay signed in and access your data while you are away (offline access)",
}

// describeScopes lists what the user is asked to approve: each granted
// scope, each client that will also accept the ID token, and each claim
// requested individually.
func describeScopes(scopes []string, claims string) []string {
	var out []string
	add := func(d string) {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	for _, s := range grantedScopes(scopes) {
		if d, ok := scopeDescriptions[s]; ok {
			add(d)
		} else if isAudienceScope(s) {
			add("Share your sign-in with " + strings.TrimPrefix(s, ScopeAudiencePrefix))
		}
	}
	idClaims, userInfoClaims := requestedClaims(claims)
	for _, c := range append(idClaims, userInfoClaims...) {
		add("See your " + strings.ReplaceAll(c, "_", " "))
	}
	return out
}
