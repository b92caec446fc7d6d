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
// Later requests from any client are answered without a password while the
// session lives (idle timeout and absolute lifetime, both enforced in code).

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
func (a *Authorize) browserBinding(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(a.cookieName(browserCookie)); err == nil && len(c.Value) == 43 && isUnreserved(c.Value, false) {
		return c.Value, nil
	}
	v, err := newSecret(a.rand)
	if err != nil {
		return "", err
	}
	a.setCookie(w, browserCookie, v, 0)
	return v, nil
}

// currentSession returns the live session this browser's cookie names, if
// any. Unknown, expired and malformed cookies are ignored, as is a session
// whose user was disabled or deleted.
func (a *Authorize) currentSession(ctx context.Context, r *http.Request) (Session, bool, error) {
	c, err := r.Cookie(a.cookieName(sessionCookie))
	if err != nil || len(c.Value) != 43 || !isUnreserved(c.Value, false) {
		return Session{}, false, nil
	}
	s, err := a.sessions.Session(ctx, HashSecret(c.Value))
	if isNotFound(err) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, err
	}
	now := a.now()
	if !now.Before(s.LastSeen.Add(a.s.SessionIdleTimeout)) || !now.Before(s.CreatedAt.Add(a.s.SessionLifetime)) {
		return Session{}, false, nil
	}
	u, err := a.users.User(ctx, s.Subject)
	if isNotFound(err) || (err == nil && u.Disabled) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, err
	}
	return s, true, nil
}

// sessionExpiry is when a session created at created and last seen at
// lastSeen ends.
func (a *Authorize) sessionExpiry(created, lastSeen time.Time) time.Time {
	idle, absolute := lastSeen.Add(a.s.SessionIdleTimeout), created.Add(a.s.SessionLifetime)
	if idle.Before(absolute) {
		return idle
	}
	return absolute
}

// touch records activity on a session if enough time passed since the last.
func (a *Authorize) touch(ctx context.Context, s Session) error {
	now := a.now()
	if now.Sub(s.LastSeen) < a.s.SessionIdleTimeout/touchFraction {
		return nil
	}
	err := a.sessions.TouchSession(ctx, s.ID, now, a.sessionExpiry(s.CreatedAt, now))
	if isNotFound(err) {
		return nil
	}
	return err
}

// newSession starts a session for a user who just logged in and sets the
// cookie; the session the browser had before, if any, is ended. It runs
// beside the login's own write (see besides): without it the user is only
// asked for the password again next time.
func (a *Authorize) newSession(ctx context.Context, w http.ResponseWriter, r *http.Request, subject string, authTime time.Time, amr []string) error {
	value, err := newSecret(a.rand)
	if err != nil {
		return err
	}
	now := a.now()
	s := Session{ID: HashSecret(value), Subject: subject, AuthTime: authTime, AMR: slices.Clone(amr),
		CreatedAt: now, LastSeen: now, Expiry: a.sessionExpiry(now, now)}
	if err := a.sessions.CreateSession(ctx, s); err != nil {
		return err
	}
	if old, err := r.Cookie(a.cookieName(sessionCookie)); err == nil && old.Value != "" {
		if err := a.sessions.DeleteSession(ctx, HashSecret(old.Value)); err != nil {
			a.log.WarnContext(ctx, "ending the previous session failed", "error", err, "request_id", RequestID(ctx))
		}
	}
	a.setCookie(w, sessionCookie, value, int(a.s.SessionLifetime/time.Second))
	return nil
}

// clearSessionCookie removes the session cookie from the browser.
func (a *Authorize) clearSessionCookie(w http.ResponseWriter) {
	a.setCookie(w, sessionCookie, "", -1)
}
