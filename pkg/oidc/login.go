package oidc

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

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
func (a *Authorize) storePending(w http.ResponseWriter, r *http.Request, req *AuthRequest) (handle, csrf string, err error) {
	if handle, csrf, err = pendingSecrets(a.rand); err != nil {
		return "", "", err
	}
	return handle, csrf, a.storePendingAs(w, r, req, handle, csrf)
}

// pendingSecrets are a new pending request's handle and CSRF token.
func pendingSecrets(rand io.Reader) (handle, csrf string, err error) {
	if handle, err = newSecret(rand); err != nil {
		return "", "", err
	}
	csrf, err = newSecret(rand)
	return handle, csrf, err
}

// storePendingAs stores req as the pending request of handle and csrf,
// bound to this browser.
func (a *Authorize) storePendingAs(w http.ResponseWriter, r *http.Request, req *AuthRequest, handle, csrf string) error {
	browser, err := a.sessions.browserBinding(w, r)
	if err != nil {
		return err
	}
	req.ID = HashSecret(handle)
	req.CSRFHash = HashSecret(csrf)
	req.BrowserHash = HashSecret(browser)
	req.Expiry = a.now().Add(a.s.AuthRequestLifetime)
	req.Version = 1
	return a.authRequests.CreateAuthRequest(r.Context(), *req)
}

// startLogin stores the validated request and shows the login page, or
// sends the browser straight to the upstream when the request has one
// callback connector to choose from (connector_id named it, or the client
// allows no other) and the login page need not be shown (Dex's
// behaviour, unless oauth2.alwaysShowLoginScreen).
func (a *Authorize) startLogin(w http.ResponseWriter, r *http.Request, req AuthRequest) error {
	client, err := a.clients.Client(r.Context(), req.ClientID)
	if err != nil {
		return frontChannelError(req, internalError(err))
	}
	handle, csrf, err := a.storePending(w, r, &req)
	if err != nil {
		return frontChannelError(req, internalError(err))
	}
	if c := a.connectors.choices(client, req); len(c) == 1 && c[0].Callback != nil && (req.ConnectorID != "" || !a.s.AlwaysShowLoginScreen) {
		return a.upstream.redirect(w, r, req, handle, c[0], true)
	}
	a.renderLogin(w, r, http.StatusOK, req, loginForm{Handle: handle, CSRF: csrf, Login: req.LoginHint})
	return nil
}

// startConsent stores a request whose user is known from the session and
// shows the approval page.
func (a *Authorize) startConsent(w http.ResponseWriter, r *http.Request, req AuthRequest, fed *federated) error {
	handle, csrf, err := pendingSecrets(a.rand)
	if err == nil {
		req.ConnectorData, err = sealFederated(a.rand, pendingSecret(handle, csrf), fed)
	}
	if err == nil {
		err = a.storePendingAs(w, r, &req, handle, csrf)
	}
	if err != nil {
		return frontChannelError(req, internalError(err))
	}
	a.renderConsent(w, r, req, handle, csrf)
	return nil
}

// frontChannelError sends an error back to the client's (already validated)
// redirect URI.
func frontChannelError(req AuthRequest, e *Error) *Error {
	e.redirect = &authResponse{redirectURI: req.RedirectURI, mode: req.ResponseMode, state: req.State}
	return e
}

// pendingRequest loads the AuthRequest a login or consent form refers to and
// checks that this browser started it and that the form is genuine.
func (a *Authorize) pendingRequest(w http.ResponseWriter, r *http.Request) (AuthRequest, url.Values, string, error) {
	form, err := readParams(w, r, true)
	if err != nil {
		return AuthRequest{}, nil, "", err
	}
	handle, csrf := form.Get("req"), form.Get("csrf")
	if handle == "" {
		return AuthRequest{}, nil, "", &Error{Code: ErrCodeInvalidRequest, Description: "This login form is incomplete. Return to the application and sign in again.", Page: true}
	}
	req, err := a.authRequests.AuthRequest(r.Context(), HashSecret(handle))
	if err != nil {
		if isNotFound(err) {
			return AuthRequest{}, nil, "", &Error{Code: ErrCodeInvalidRequest, Description: "This login has expired or was already completed. Return to the application and sign in again.", Page: true}
		}
		return AuthRequest{}, nil, "", internalPageError(err)
	}
	cookie, _ := r.Cookie(a.cookieName(browserCookie))
	if csrf == "" || !secretMatches(csrf, req.CSRFHash) || cookie == nil || !secretMatches(cookie.Value, req.BrowserHash) {
		return AuthRequest{}, nil, "", &Error{Code: ErrCodeInvalidRequest, Description: "This form could not be verified (CSRF check failed). Return to the application and sign in again.", Status: http.StatusForbidden, Page: true}
	}
	return req, form, handle, nil
}

// checkPassword checks the password of the login form, within the login
// throttle, then signs the user in. The typed name is resolved to an
// account first, so the throttle counts the account however it was named;
// then the attempt reserves its slots, and only an attempt within every
// limit has its password compared. A wrong password shows the form again
// with one generic message: it never reveals which accounts exist. The
// loginFormFailures-th wrong password on one form ends the pending login.
func (a *Authorize) checkPassword(w http.ResponseWriter, r *http.Request) error {
	req, form, handle, err := a.pendingRequest(w, r)
	if err != nil {
		return err
	}
	if req.Subject != "" {
		return &Error{Code: ErrCodeInvalidRequest, Description: "You are already signed in. Return to the application.", Page: true}
	}
	if ok, err := mayUse(r.Context(), a.clients, req, ConnectorLocal); err != nil || !ok {
		return cmp.Or(err, error(&Error{Code: ErrCodeAccessDenied, Description: "Signing in with a password is not allowed here. Return to the application.", Status: http.StatusForbidden, Page: true}))
	}
	ctx := r.Context()
	retry := loginForm{Handle: handle, CSRF: form.Get("csrf"), Login: form.Get("login"), Error: "Invalid email or password."}
	password := form.Get("password")
	if retry.Login == "" || password == "" || len(retry.Login) > maxParamLength || len(password) > maxPasswordLength {
		a.renderLogin(w, r, http.StatusUnauthorized, req, retry)
		return nil
	}
	user, found, err := a.users.byLogin(ctx, retry.Login)
	if err != nil {
		return frontChannelError(req, internalError(err))
	}
	counters := a.throttle.attempt(r, req, accountKey(user, found, retry.Login))
	switch v, err := a.throttle.reserve(ctx, counters); {
	case err != nil:
		return frontChannelError(req, internalError(err))
	case v == formEnded:
		return a.endLogin(ctx, req, http.StatusTooManyRequests)
	case v == throttled:
		a.log.WarnContext(ctx, "login throttled", "client_id", req.ClientID, "request_id", RequestID(ctx))
		retry.Error = "Too many failed sign-in attempts. Wait a few minutes and try again."
		a.renderLogin(w, r, http.StatusTooManyRequests, req, retry)
		return nil
	}
	if !passwordMatches(user, found, password) {
		a.log.InfoContext(ctx, "wrong password", "client_id", req.ClientID, "request_id", RequestID(ctx))
		if formUsedUp(counters) {
			return a.endLogin(ctx, req, http.StatusUnauthorized)
		}
		a.renderLogin(w, r, http.StatusUnauthorized, req, retry)
		return nil
	}
	// The right password gives its slots back beside the sign-in's writes.
	return run2(func() error { return a.signIn(w, r, req, user, []string{amrPassword}, nil, handle, retry.CSRF) },
		func() error { a.throttle.release(ctx, counters, false); return nil })
}

// endLogin ends a pending login that has had its wrong passwords: the
// request is deleted, the event logged as a warning (a guessing attack is
// worth an alert), and the answer is a page telling the user to start
// again from the application. The form is bound to this browser, so the
// page, not a redirect the client did not ask for, is the answer.
func (a *Authorize) endLogin(ctx context.Context, req AuthRequest, status int) error {
	a.dropPending(ctx, req)
	a.log.WarnContext(ctx, "login ended after too many wrong passwords", "client_id", req.ClientID, "request_id", RequestID(ctx))
	return &Error{Code: ErrCodeAccessDenied, Description: "Too many wrong passwords. Return to the application and sign in again.", Status: status, Page: true}
}

// dropPending deletes a pending request that must not be completed; one
// already gone or changed by a concurrent submission needs nothing more.
func (a *Authorize) dropPending(ctx context.Context, req AuthRequest) {
	wctx, cancel := detach(ctx)
	defer cancel()
	if err := a.authRequests.CompleteAuthRequest(wctx, req.ID, req.Version, nil); err != nil && !isNotFound(err) && !errors.Is(err, ErrConflict) {
		a.log.WarnContext(ctx, "ending the pending request failed", "error", err, "request_id", RequestID(ctx))
	}
}

// signIn continues a login: it starts the single sign-on session and goes
// on to the approval page, or straight to the client when no approval is
// needed. fed is the login through a callback connector (nil for the
// password database); it goes on sealed under the next secret: the
// handle and CSRF token while the approval page waits, or the code. The
// session write runs beside the request's own write: one round trip of
// latency.
func (a *Authorize) signIn(w http.ResponseWriter, r *http.Request, req AuthRequest, user User, amr []string, fed *federated, handle, csrf string) error {
	ctx := r.Context()
	if req.HintSubject != "" && req.HintSubject != user.Subject {
		// The id_token_hint named someone else (OpenID Connect Core
		// §3.1.2.1): the client asked about that user, not this one.
		a.dropPending(ctx, req)
		return frontChannelError(req, errorf(ErrCodeLoginRequired, "the signed-in user is not the one the id_token_hint names"))
	}
	req.Subject, req.AuthTime, req.AMR = user.Subject, a.now(), amr
	sid, err := newSecret(a.rand) // the new session's sid
	if err != nil {
		return frontChannelError(req, internalError(err))
	}
	req.SID = sid
	consent, err := a.needsConsent(ctx, req)
	if err != nil {
		return frontChannelError(req, internalError(err))
	}
	var resp authResponse
	var started string // the new session's id, once written
	err = a.besides(ctx, "starting the single sign-on session",
		func() (err error) { started, err = a.sessions.start(ctx, w, r, req); return err },
		func() (err error) {
			if consent {
				waiting := req // the session's write reads req meanwhile
				if waiting.ConnectorData, err = sealFederated(a.rand, pendingSecret(handle, csrf), fed); err != nil {
					return err
				}
				return a.authRequests.UpdateAuthRequest(ctx, waiting)
			}
			resp, err = a.issue(ctx, req, fed)
			return err
		},
	)
	if err != nil {
		// The login did not complete (another window completed it first):
		// the browser must not stay signed in as this login's user.
		a.sessions.abandon(ctx, w, started)
		return issueError(req, err)
	}
	if consent {
		req.Version++
		a.renderConsent(w, r, req, handle, csrf)
		return nil
	}
	a.deliver(w, r, resp)
	return nil
}

// mayUse reports whether the login of req may use connector: connector_id
// named it or nothing, and the client allows it.
func mayUse(ctx context.Context, clients ClientStore, req AuthRequest, connector string) (bool, error) {
	if req.ConnectorID != "" && req.ConnectorID != connector {
		return false, nil
	}
	client, err := clients.Client(ctx, req.ClientID)
	if err != nil {
		return false, frontChannelError(req, internalError(err))
	}
	return connectorAllowed(client, connector), nil
}

// pendingError explains a failed write of a pending request: a request
// completed or changed by a concurrent submission is shown as a page (the
// other submission already answered the client); anything else goes to the
// client as an error.
func pendingError(req AuthRequest, err error) error {
	if isNotFound(err) || errors.Is(err, ErrConflict) {
		return &Error{Code: ErrCodeInvalidRequest, Description: "This login was already completed in another window. Return to the application.", Page: true, Cause: err}
	}
	return frontChannelError(req, internalError(err))
}

// dummyHash is compared against when the account does not exist, so that a
// login takes as long for unknown accounts as for known ones. A constant
// (bcrypt of a random string, cost 10): computing it at start would cost
// every cold start ~60 ms of CPU.
var dummyHash = []byte("$2a$10$BKgKVAv9MrcOxJZOHv2Ek.SZhwHbKmLXr3cE4ixcHBDiqtqUpqliS")

// passwordMatches authenticates a user of the password database (found) by
// password. Without an account, or without a hash, it compares against
// dummyHash, so that every refusal takes one bcrypt comparison; a disabled
// account never passes.
func passwordMatches(user User, found bool, password string) bool {
	hash := user.PasswordHash
	if !found || len(hash) == 0 {
		hash = dummyHash
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	return match && found && len(user.PasswordHash) > 0 && !user.Disabled
}
