package oidc

import (
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
func (p *Provider) serveLogout(w http.ResponseWriter, r *http.Request) {
	params, err := p.readParams(w, r, true)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	var hint *idTokenHint
	if raw := params.Get("id_token_hint"); raw != "" {
		h, err := p.parseIDTokenHint(ctx, raw)
		if err != nil {
			if isInvalidToken(err) {
				p.writeError(w, r, &Error{Code: ErrCodeInvalidRequest, Description: "The id_token_hint was not issued by this provider.", Page: true})
			} else {
				p.writeError(w, r, internalPageError(err))
			}
			return
		}
		hint = &h
	}
	clientID := params.Get("client_id")
	if hint != nil {
		switch {
		case clientID == "" && len(hint.Audience) > 0:
			clientID = hint.Audience[0] // the client the ID token was issued to
		case clientID != "" && !slices.Contains(hint.Audience, clientID):
			p.writeError(w, r, &Error{Code: ErrCodeInvalidRequest, Description: "client_id does not match the id_token_hint.", Page: true})
			return
		}
	}
	var client Client
	if clientID != "" {
		if client, err = p.cfg.Clients.Client(ctx, clientID); err != nil && !isNotFound(err) {
			p.writeError(w, r, internalPageError(err))
			return
		}
	}
	redirectURI := params.Get("post_logout_redirect_uri")
	if redirectURI != "" && (client.ID == "" || !slices.Contains(client.PostLogoutRedirectURIs, redirectURI)) {
		p.log.InfoContext(ctx, "post_logout_redirect_uri not registered: not redirecting", "client_id", clientID, "request_id", RequestID(ctx))
		redirectURI = ""
	}
	state := params.Get("state")
	if len(state) > maxParamLength {
		state = ""
	}

	session, ok, err := p.currentSession(ctx, r)
	if err != nil {
		p.writeError(w, r, internalPageError(err))
		return
	}
	if ok {
		cookie, _ := r.Cookie(p.cookieName(sessionCookie))
		csrf := HashSecret("logout\x00" + cookie.Value)
		genuine := r.Method == http.MethodPost && subtle.ConstantTimeCompare([]byte(params.Get("csrf")), []byte(csrf)) == 1
		confirmed := genuine && params.Get("confirm") != ""
		tied := hint != nil && hint.Subject == session.Subject
		if genuine && params.Get("cancel") != "" {
			p.render(w, r, http.StatusOK, "logout", "", map[string]any{"Title": "Signed in", "Cancelled": true})
			return
		}
		if !tied && !confirmed {
			p.render(w, r, http.StatusOK, "logout", redirectURI, map[string]any{
				"Title": "Sign out", "Confirm": true, "Action": p.URL(PathLogout), "CSRF": csrf,
				"ClientName": client.Name, "ClientID": client.ID, "RedirectURI": redirectURI, "State": state,
			})
			return
		}
		if err := p.cfg.Sessions.DeleteSession(ctx, session.ID); err != nil {
			p.writeError(w, r, internalPageError(err))
			return
		}
		p.log.InfoContext(ctx, "session ended", "client_id", clientID, "request_id", RequestID(ctx))
	}
	p.clearSessionCookie(w)
	if redirectURI == "" {
		p.render(w, r, http.StatusOK, "logout", "", map[string]any{"Title": "Signed out"})
		return
	}
	target := redirectURI
	if state != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + url.Values{"state": {state}}.Encode()
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}
