package oidc

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// Single sign-on sessions. After a password login the browser holds a
// session cookie: a 256-bit random value, stored only as its hash, HttpOnly,
// SameSite=Lax (sent on the top-level navigations an authorization request
// is, not on cross-site subrequests), with the __Host- prefix on https.
// Later requests are answered without a password while the session lives
// (idle timeout and absolute lifetime, both enforced in code), from the
// client the login was for and from the clients it shares the session with
// (Client.SSOSharedWith, else Settings.SSOSharedWithDefault: all unless
// configured otherwise). A request from any other client is treated as
// having no session; a login there starts a new one, for that client.

// browserSessions manages what the authorize function keeps in the
// browser: the binding cookie of pending logins and the single sign-on
// session.
type browserSessions struct {
	*base
	store      SessionStore
	users      directory
	clients    ClientStore
	connectors connectors
	// backchannel tells the clients a session signed in to that it ended.
	backchannel *backchannel
}

// SSO sharing defaults (Settings.SSOSharedWithDefault, Dex's
// sessions.ssoSharedWithDefault).
const (
	SSOShareAll  = "all"
	SSOShareNone = "none"
)

const sessionCookie = "oidc_session"

// touchFraction: activity is recorded at most this often relative to the idle
// timeout, so a busy session does not cost a write per request.
const touchFraction = 10

// Cookies. With an https issuer they carry the __Host- prefix (Secure,
// Path=/, no Domain: no subdomain can set or read them); on a loopback http
// issuer the prefix and Secure are dropped so local development works.
const browserCookie = "oidc_browser"

// browserBinding returns this browser's binding secret, setting the cookie
// when the browser has none. One value per browser lets logins in several
// tabs proceed side by side.
func (bs *browserSessions) browserBinding(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(bs.cookieName(browserCookie)); err == nil && len(c.Value) == 43 && isUnreserved(c.Value, false) {
		return c.Value, nil
	}
	v, err := newSecret(bs.rand)
	if err != nil {
		return "", err
	}
	bs.setCookie(w, browserCookie, v, 0)
	return v, nil
}

// current returns the live session this browser's cookie names, if
// any. Unknown, expired and malformed cookies are ignored, as is a session
// whose user was disabled or deleted.
func (bs *browserSessions) current(ctx context.Context, r *http.Request) (Session, bool, error) {
	s, _, ok, err := bs.currentUser(ctx, r)
	return s, ok, err
}

// currentUser is current with the session's user.
func (bs *browserSessions) currentUser(ctx context.Context, r *http.Request) (Session, User, bool, error) {
	c, err := r.Cookie(bs.cookieName(sessionCookie))
	if err != nil || len(c.Value) != 43 || !isUnreserved(c.Value, false) {
		return Session{}, User{}, false, nil
	}
	s, err := bs.store.Session(ctx, HashSecret(c.Value))
	if isNotFound(err) {
		return Session{}, User{}, false, nil
	}
	if err != nil {
		return Session{}, User{}, false, err
	}
	now := bs.now()
	if !now.Before(s.LastSeen.Add(bs.s.SessionIdleTimeout)) || !now.Before(s.CreatedAt.Add(bs.s.SessionLifetime)) {
		return Session{}, User{}, false, nil
	}
	u, err := bs.users.User(ctx, s.Subject)
	if isNotFound(err) || (err == nil && u.Disabled) {
		return Session{}, User{}, false, nil
	}
	if err != nil {
		return Session{}, User{}, false, err
	}
	return s, u, true, nil
}

// currentFor returns the live session of this browser, and its user, if
// it may answer req: the session's own client shares it with req's
// client (see sharesSession), and its user logged in with a connector
// that is still configured and that the request may use. Otherwise the
// request is treated as having no session.
func (bs *browserSessions) currentFor(ctx context.Context, r *http.Request, req AuthRequest) (Session, User, bool, error) {
	s, u, ok, err := bs.currentUser(ctx, r)
	if err != nil || !ok {
		return s, u, ok, err
	}
	if ok, err := bs.answers(ctx, s, u, req); err != nil || !ok {
		return Session{}, User{}, false, err
	}
	return s, u, true, nil
}

// answers reports whether session s of user u may answer req.
func (bs *browserSessions) answers(ctx context.Context, s Session, u User, req AuthRequest) (bool, error) {
	if _, configured := bs.connectors.byID(u.ConnectorID); !configured || (req.ConnectorID != "" && req.ConnectorID != u.ConnectorID) {
		return false, nil
	}
	client, err := bs.clients.Client(ctx, req.ClientID)
	if err != nil {
		return false, err
	}
	if !connectorAllowed(client, u.ConnectorID) {
		return false, nil
	}
	if s.ClientID == req.ClientID {
		return true, nil
	}
	origin, err := bs.clients.Client(ctx, s.ClientID)
	if isNotFound(err) {
		// A client since removed (or a session older than ClientID): its
		// list is gone, so the default decides.
		origin, err = Client{ID: s.ClientID}, nil
	}
	if err != nil {
		return false, err
	}
	if !sharesSession(origin, req.ClientID, bs.s.SSOSharedWithDefault) {
		return false, nil
	}
	return true, nil
}

// sharesSession reports whether a session started by a login for origin
// may answer a request of client: origin lists client or "*" in
// SSOSharedWith, or has no list and def is SSOShareAll or "" (the default
// before sharing was configurable). Any other def shares with none.
func sharesSession(origin Client, client, def string) bool {
	if origin.ID == client {
		return true
	}
	if origin.SSOSharedWithSet {
		return slices.Contains(origin.SSOSharedWith, client) || slices.Contains(origin.SSOSharedWith, "*")
	}
	return def == "" || def == SSOShareAll
}

// expiry is when a session created at created and last seen at
// lastSeen ends.
func (bs *browserSessions) expiry(created, lastSeen time.Time) time.Time {
	idle, absolute := lastSeen.Add(bs.s.SessionIdleTimeout), created.Add(bs.s.SessionLifetime)
	if idle.Before(absolute) {
		return idle
	}
	return absolute
}

// touch records activity on a session if enough time passed since the last.
func (bs *browserSessions) touch(ctx context.Context, s Session) error {
	now := bs.now()
	if now.Sub(s.LastSeen) < bs.s.SessionIdleTimeout/touchFraction {
		return nil
	}
	err := bs.store.TouchSession(ctx, s.ID, now, bs.expiry(s.CreatedAt, now))
	if isNotFound(err) {
		return nil
	}
	return err
}

// start starts a session for the user who just logged in for req, with
// req.SID as its sid, and sets the cookie; the session the browser had
// before, if any, is ended, and the clients it signed in to are told
// (back-channel logout). It runs beside the login's own write (see
// besides): without it the user is only asked for the password again next
// time.
func (bs *browserSessions) start(ctx context.Context, w http.ResponseWriter, r *http.Request, req AuthRequest) (id string, err error) {
	value, err := newSecret(bs.rand)
	if err != nil {
		return "", err
	}
	now := bs.now()
	s := Session{ID: HashSecret(value), Subject: req.Subject, ClientID: req.ClientID, AuthTime: req.AuthTime, AMR: slices.Clone(req.AMR),
		CreatedAt: now, LastSeen: now, Expiry: bs.expiry(now, now), SID: req.SID}
	if err := bs.store.CreateSession(ctx, s); err != nil {
		return "", err
	}
	if old, err := r.Cookie(bs.cookieName(sessionCookie)); err == nil && old.Value != "" {
		if err := bs.end(ctx, Session{ID: HashSecret(old.Value)}); err != nil {
			bs.log.WarnContext(ctx, "ending the previous session failed", "error", err, "request_id", RequestID(ctx))
		}
	}
	bs.setCookie(w, sessionCookie, value, int(bs.s.SessionLifetime/time.Second))
	return s.ID, nil
}

// abandon ends the session id that start wrote for a login that then
// did not complete, and clears its cookie; "" (none written) is nothing.
func (bs *browserSessions) abandon(ctx context.Context, w http.ResponseWriter, id string) {
	if id == "" {
		return
	}
	wctx, cancel := detach(ctx)
	defer cancel()
	if _, err := bs.store.EndSession(wctx, id); err != nil && !isNotFound(err) {
		bs.log.WarnContext(ctx, "ending the session of an incomplete login failed", "error", err, "request_id", RequestID(ctx))
	}
	bs.clearCookie(w)
}

// clearCookie removes the session cookie from the browser.
func (bs *browserSessions) clearCookie(w http.ResponseWriter) {
	bs.setCookie(w, sessionCookie, "", -1)
}

// end deletes the session s (the caller clears the cookie) and tells the
// clients it signed in to, as the deleted item lists them (one write: the
// delete returns it), within the delivery's bounds (backchannel.go). A
// session already gone was ended, and announced, by someone else.
func (bs *browserSessions) end(ctx context.Context, s Session) error {
	ended, err := bs.store.EndSession(ctx, s.ID)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	bs.backchannel.logout(ctx, ended)
	return nil
}

// record notes that session s answered clientID: a client it has not
// answered before joins it (JoinSession, one write that also records the
// activity), so that its end reaches that client too; otherwise it is a
// touch, which writes only now and then.
func (bs *browserSessions) record(ctx context.Context, s Session, clientID string) error {
	if s.SID == "" || clientID == s.ClientID || slices.Contains(s.Clients, clientID) {
		return bs.touch(ctx, s)
	}
	if len(s.Clients) >= maxSessionClients {
		bs.log.WarnContext(ctx, "session answers too many clients: not recording another for back-channel logout", "client_id", clientID, "request_id", RequestID(ctx))
		return bs.touch(ctx, s)
	}
	now := bs.now()
	err := bs.store.JoinSession(ctx, s.ID, s.SID, clientID, now, bs.expiry(s.CreatedAt, now))
	if isNotFound(err) {
		return nil
	}
	return err
}
