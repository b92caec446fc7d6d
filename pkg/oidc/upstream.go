package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Logins through callback connectors. The browser leaves for the upstream
// with a fresh state; the ConnectorState stored under its hash binds the
// answer to the pending request and to the browser that started it (the
// binding cookie), and is used once. A callback whose browser is not that
// one, or whose state is unknown, changes nothing: an attacker's callback
// never consumes a victim's pending request. The handle of the pending
// request and the connector's nonce and PKCE verifier travel sealed under
// the state, so the table holds nothing an attacker could use.

// Purposes of the keys derived by sealUnder.
const (
	statePurpose         = "serverless-oidc connector state v1"
	connectorDataPurpose = "serverless-oidc connector data v1"
)

// sealedState is what a ConnectorState keeps sealed under its state.
type sealedState struct {
	Handle string `json:"h"`
	Data   []byte `json:"d,omitempty"`
}

// upstream runs the provider's side of callback connectors for the
// authorize function.
type upstream struct {
	*base
	connectors   connectors
	states       ConnectorStateStore
	identities   IdentityStore
	users        directory
	authRequests AuthRequestStore
}

// CallbackURL is where connector id's upstream sends the browser back,
// unless its configuration names Dex's shared PathCallback: a path of
// its own, so that an answer from one upstream cannot be played to
// another connector's login (RFC 9700 §4.4.2, mix-up).
func CallbackURL(issuer, id string) string { return issuer + PathCallback + "/" + id }

// redirect sends the browser to connector c's upstream for the pending
// request req, whose form handle is handle. An upstream whose metadata
// cannot be had answers temporarily_unavailable at the client when the
// browser was sent on without a choice (direct), else on the page.
func (u *upstream) redirect(w http.ResponseWriter, r *http.Request, req AuthRequest, handle string, c Connector, direct bool) error {
	ctx := r.Context()
	state, err := newSecret(u.rand)
	if err != nil {
		return internalPageError(err)
	}
	loginURL, data, err := c.Callback.LoginURL(ctx, connectorScopes(req), CallbackURL(u.s.Issuer, c.ID), state)
	if err != nil {
		u.log.WarnContext(ctx, "connector login URL failed", "connector", c.ID, "error", err, "request_id", RequestID(ctx))
		e := &Error{Code: ErrCodeTemporarilyUnavailable, Status: http.StatusBadGateway, Page: true, Cause: err,
			Description: "Signing in with " + c.Name + " is not possible right now. Try again in a moment, or go back to the application."}
		if direct {
			e = frontChannelError(req, errorf(ErrCodeTemporarilyUnavailable, c.Name+" cannot be reached"))
		}
		return e
	}
	plain, err := json.Marshal(sealedState{Handle: handle, Data: data})
	if err != nil {
		return internalPageError(err)
	}
	sealed, err := sealUnder(u.rand, state, statePurpose, plain)
	if err != nil {
		return internalPageError(err)
	}
	st := ConnectorState{ID: HashSecret(state), AuthRequestID: req.ID, ConnectorID: c.ID, BrowserHash: req.BrowserHash, Sealed: sealed, Expiry: req.Expiry}
	if err := u.states.CreateConnectorState(ctx, st); err != nil {
		return frontChannelError(req, internalError(err))
	}
	http.Redirect(w, r, loginURL, http.StatusSeeOther)
	return nil
}

// callbackLogin is a callback that came back with a user.
type callbackLogin struct {
	req       AuthRequest
	handle    string
	connector Connector
	user      User
	data      []byte // Identity.ConnectorData, in clear: only in memory
}

// federated is the login as its grant keeps it.
func (l callbackLogin) federated() *federated { return &federated{User: l.user, Data: l.data} }

// callback checks an upstream's answer and returns the login it
// completes. The state is looked up without being used; only the browser
// that started the login gets further, and only then is the state taken,
// once, whatever the upstream said.
func (u *upstream) callback(r *http.Request, params map[string][]string) (callbackLogin, error) {
	ctx := r.Context()
	state := first(params["state"])
	if len(state) != 43 || !isUnreserved(state, false) {
		return callbackLogin{}, &Error{Code: ErrCodeInvalidRequest, Page: true,
			Description: "This sign-in answer does not belong to a login in progress. Return to the application and sign in again."}
	}
	st, err := u.states.ConnectorState(ctx, HashSecret(state))
	if isNotFound(err) {
		return callbackLogin{}, errLoginGone
	}
	if err != nil {
		return callbackLogin{}, internalPageError(err)
	}
	cookie, _ := r.Cookie(u.cookieName(browserCookie))
	if cookie == nil || !secretMatches(cookie.Value, st.BrowserHash) {
		u.log.WarnContext(ctx, "connector callback from another browser refused", "connector", st.ConnectorID, "request_id", RequestID(ctx))
		u.securityEvent(ctx, EventConnectorBrowserMismatch)
		return callbackLogin{}, &Error{Code: ErrCodeAccessDenied, Status: http.StatusForbidden, Page: true,
			Description: "This sign-in was started in another browser. Return to the application and sign in again here."}
	}
	c, ok := u.connectors.byID(st.ConnectorID)
	named, byName := strings.CutPrefix(r.URL.Path, u.issuer.Path+PathCallback+"/")
	if !ok || c.Callback == nil || (byName && named != c.ID) {
		return callbackLogin{}, &Error{Code: ErrCodeInvalidRequest, Page: true,
			Description: "This sign-in answer came from a connector that is not configured. Return to the application and sign in again."}
	}
	var sealed sealedState
	plain, err := openUnder(state, statePurpose, st.Sealed)
	if err == nil {
		err = json.Unmarshal(plain, &sealed)
	}
	if err != nil {
		return callbackLogin{}, internalPageError(err)
	}
	req, err := u.authRequests.AuthRequest(ctx, st.AuthRequestID)
	if isNotFound(err) {
		return callbackLogin{}, errLoginGone
	}
	if err != nil {
		return callbackLogin{}, internalPageError(err)
	}
	if req.Subject != "" {
		return callbackLogin{}, errLoginGone
	}
	// The state is used up by this answer, good or bad, before the
	// upstream is asked: of concurrent callbacks only one exchanges the
	// upstream's code (a code used twice may revoke what it issued,
	// RFC 6749 §4.1.2).
	if err := u.states.TakeConnectorState(ctx, st.ID); isNotFound(err) {
		return callbackLogin{}, &Error{Code: ErrCodeInvalidRequest, Page: true, Cause: err,
			Description: "This login was already completed in another window. Return to the application."}
	} else if err != nil {
		return callbackLogin{}, frontChannelError(req, internalError(err))
	}
	login := callbackLogin{req: req, handle: sealed.Handle, connector: c}
	id, err := c.Callback.HandleCallback(ctx, connectorScopes(req), sealed.Data, r)
	if err == nil {
		login.user, err = u.vouched(ctx, c, id)
		login.data = id.ConnectorData
	}
	if err != nil {
		return login, err
	}
	if err := u.identities.PutIdentity(ctx, login.user, u.now().Add(identityLifetime(u.s))); err != nil {
		return callbackLogin{}, frontChannelError(req, internalError(err))
	}
	return login, nil
}

// vouched is the user connector c vouched for with id (directory.vouched).
func (u *upstream) vouched(ctx context.Context, c Connector, id Identity) (User, error) {
	return u.users.vouched(ctx, c.ID, id)
}

// errLoginGone answers a callback whose pending request is gone.
var errLoginGone = &Error{Code: ErrCodeInvalidRequest, Page: true,
	Description: "This login has expired or was already completed. Return to the application and sign in again."}

// first is the first of a parameter's values, or "".
func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// failure explains an upstream login that did not produce a user. The
// user declining upstream (access_denied) ends the request at the client
// with access_denied (RFC 6749 §4.1.2.1); anything else, an upstream that
// does not answer too, is shown on the login page, where the user may try
// again or choose another connector.
func (u *upstream) failure(ctx context.Context, req AuthRequest, c Connector, err error) (reason string, status int, final error) {
	var ue *UpstreamError
	switch {
	case errors.Is(err, ErrUpstreamDenied):
		u.log.InfoContext(ctx, "upstream login declined", "connector", c.ID, "client_id", req.ClientID, "request_id", RequestID(ctx))
		return "", 0, frontChannelError(req, errorf(ErrCodeAccessDenied, "the user declined at "+c.Name))
	case errors.Is(err, ErrUnavailable):
		u.log.WarnContext(ctx, "upstream unavailable", "connector", c.ID, "error", err, "request_id", RequestID(ctx))
		return c.Name + " did not answer. Try again in a moment.", http.StatusBadGateway, nil
	case errors.As(err, &ue):
		u.log.WarnContext(ctx, "upstream login refused", "connector", c.ID, "reason", ue.Reason, "error", ue.Err, "request_id", RequestID(ctx))
		return "Signing in with " + c.Name + " failed: " + ue.Reason, http.StatusForbidden, nil
	}
	u.log.ErrorContext(ctx, "upstream login failed", "connector", c.ID, "error", err, "request_id", RequestID(ctx))
	return "Signing in with " + c.Name + " failed.", http.StatusBadGateway, nil
}

// chooseConnector answers a connector chosen on the login page: a link
// carrying the pending request's handle, from the browser that started it.
func (a *Authorize) chooseConnector(w http.ResponseWriter, r *http.Request) error {
	params, err := readParams(w, r, true)
	if err != nil {
		return err
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		// The links are on our own login page: another site (which could
		// know a handle only from a leak) cannot send the browser on.
		return &Error{Code: ErrCodeInvalidRequest, Status: http.StatusForbidden, Page: true,
			Description: "This sign-in link was followed from another site. Return to the application and sign in again."}
	}
	handle := params.Get("req")
	req, err := a.authRequests.AuthRequest(r.Context(), HashSecret(handle))
	if handle == "" || isNotFound(err) {
		return errLoginGone
	}
	if err != nil {
		return internalPageError(err)
	}
	if cookie, _ := r.Cookie(a.cookieName(browserCookie)); cookie == nil || !secretMatches(cookie.Value, req.BrowserHash) {
		return &Error{Code: ErrCodeInvalidRequest, Status: http.StatusForbidden, Page: true,
			Description: "This login was started in another browser. Return to the application and sign in again here."}
	}
	c, known := a.connectors.byID(params.Get("connector"))
	ok, err := mayUse(r.Context(), a.clients, req, c.ID)
	switch {
	case err != nil:
		return err
	case !known || c.Callback == nil || !ok:
		return &Error{Code: ErrCodeInvalidRequest, Page: true, Description: "This way of signing in is not available here. Return to the application and sign in again."}
	case req.Subject != "":
		return &Error{Code: ErrCodeInvalidRequest, Description: "You are already signed in. Return to the application.", Page: true}
	}
	return a.upstream.redirect(w, r, req, handle, c, false)
}

// serveCallback completes a login at a callback connector: the user the
// upstream vouched for is signed in; a failure is shown on the login page
// (with a fresh CSRF token: the page's old one was never sent upstream),
// or ends the request at the client when the user declined.
func (a *Authorize) serveCallback(w http.ResponseWriter, r *http.Request) error {
	params, err := readParams(w, r, true)
	if err != nil {
		return err
	}
	login, err := a.upstream.callback(r, params)
	if login.handle == "" {
		return err
	}
	csrf, cerr := newSecret(a.rand)
	if cerr != nil {
		return frontChannelError(login.req, internalError(cerr))
	}
	req := login.req
	req.CSRFHash = HashSecret(csrf)
	if err != nil {
		reason, status, final := a.upstream.failure(r.Context(), req, login.connector, err)
		if final != nil {
			a.dropPending(r.Context(), req)
			return final
		}
		if err := a.authRequests.UpdateAuthRequest(r.Context(), req); err != nil {
			return pendingError(req, err)
		}
		req.Version++
		a.renderLogin(w, r, status, req, loginForm{Handle: login.handle, CSRF: csrf, Error: reason})
		return nil
	}
	req.ConnectorID = login.connector.ID
	return a.signIn(w, r, req, login.user, nil, login.federated(), login.handle, csrf)
}
