package oidc

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// serveLogout is the end_session_endpoint (OpenID Connect RP-Initiated
// Logout 1.0, §2–§3), GET and POST.
//
// The browser returns to post_logout_redirect_uri only when that URI is
// registered, exactly, for the client that client_id or the id_token_hint
// names: otherwise a signed-out page is shown, never an open redirect. A
// request that cannot be tied to the session (no id_token_hint, or one for
// another user) is confirmed by the user first, through a form whose CSRF
// token derives from the session cookie, so a third-party page cannot sign
// users out.
func (a *Authorize) serveLogout(w http.ResponseWriter, r *http.Request) error {
	params, err := readParams(w, r, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	req, err := a.logoutRequest(ctx, params)
	if err != nil {
		return err
	}
	session, ok, err := a.sessions.current(ctx, r)
	if err != nil {
		return internalPageError(err)
	}
	if ok {
		cookie, _ := r.Cookie(a.cookieName(sessionCookie))
		csrf := HashSecret("logout\x00" + cookie.Value)
		genuine := r.Method == http.MethodPost && subtle.ConstantTimeCompare([]byte(params.Get("csrf")), []byte(csrf)) == 1
		confirmed := genuine && params.Get("confirm") != ""
		tied := req.hint != nil && req.hint.Subject == session.Subject
		if genuine && params.Get("cancel") != "" {
			a.render(w, r, http.StatusOK, "", logoutPage{Title: "Signed in", Cancelled: true})
			return nil
		}
		if !tied && !confirmed {
			a.render(w, r, http.StatusOK, req.redirectURI, logoutPage{
				Title: "Sign out", Confirm: true, Action: a.URL(PathLogout), CSRF: csrf,
				ClientName: req.client.Name, ClientID: req.client.ID, RedirectURI: req.redirectURI, State: req.state,
			})
			return nil
		}
		if err := a.sessions.end(ctx, session); err != nil {
			return internalPageError(err)
		}
		a.log.InfoContext(ctx, "session ended", "client_id", req.client.ID, "request_id", RequestID(ctx))
	}
	a.sessions.clearCookie(w)
	if req.redirectURI == "" {
		a.render(w, r, http.StatusOK, "", logoutPage{Title: "Signed out"})
		return nil
	}
	target := req.redirectURI
	if req.state != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + url.Values{"state": {req.state}}.Encode()
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return nil
}

// logoutRequest is a validated logout request.
type logoutRequest struct {
	hint        *idTokenHint
	client      Client // zero when no client is named or it is unknown
	redirectURI string // "" unless registered for client
	state       string
}

// logoutRequest reads the id_token_hint, the client it or client_id names,
// and keeps post_logout_redirect_uri only when it is registered, exactly,
// for that client.
func (a *Authorize) logoutRequest(ctx context.Context, params url.Values) (logoutRequest, error) {
	var req logoutRequest
	if raw := params.Get("id_token_hint"); raw != "" {
		h, err := a.parseIDTokenHint(ctx, raw)
		if err != nil {
			if isInvalidToken(err) {
				return req, &Error{Code: ErrCodeInvalidRequest, Description: "The id_token_hint was not issued by this provider.", Page: true}
			}
			return req, internalPageError(err)
		}
		req.hint = &h
	}
	clientID := params.Get("client_id")
	if req.hint != nil {
		switch {
		case clientID == "" && len(req.hint.Audience) > 0:
			clientID = req.hint.Audience[0] // the client the ID token was issued to
		case clientID != "" && !slices.Contains(req.hint.Audience, clientID):
			return req, &Error{Code: ErrCodeInvalidRequest, Description: "client_id does not match the id_token_hint.", Page: true}
		}
	}
	if clientID != "" {
		c, err := a.clients.Client(ctx, clientID)
		if err != nil && !isNotFound(err) {
			return req, internalPageError(err)
		}
		req.client = c
	}
	req.redirectURI = params.Get("post_logout_redirect_uri")
	if req.redirectURI != "" && (req.client.ID == "" || !slices.Contains(req.client.PostLogoutRedirectURIs, req.redirectURI)) {
		a.log.InfoContext(ctx, "post_logout_redirect_uri not registered: not redirecting", "client_id", clientID, "request_id", RequestID(ctx))
		req.redirectURI = ""
	}
	if req.state = params.Get("state"); len(req.state) > maxParamLength {
		req.state = ""
	}
	return req, nil
}
