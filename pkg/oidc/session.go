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

// currentSession returns the live session this browser's cookie names, if
// any. Unknown, expired and malformed cookies are ignored, as is a session
// whose user was disabled or deleted.
func (p *Provider) currentSession(ctx context.Context, r *http.Request) (Session, bool, error) {
	c, err := r.Cookie(p.cookieName(sessionCookie))
	if err != nil || len(c.Value) != 43 || !isUnreserved(c.Value, false) {
		return Session{}, false, nil
	}
	s, err := p.cfg.Sessions.Session(ctx, HashSecret(c.Value))
	if isNotFound(err) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, err
	}
	now := p.now()
	if !now.Before(s.LastSeen.Add(p.cfg.SessionIdleTimeout)) || !now.Before(s.CreatedAt.Add(p.cfg.SessionLifetime)) {
		return Session{}, false, nil
	}
	u, err := p.cfg.Users.User(ctx, s.Subject)
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
func (p *Provider) sessionExpiry(created, lastSeen time.Time) time.Time {
	idle, absolute := lastSeen.Add(p.cfg.SessionIdleTimeout), created.Add(p.cfg.SessionLifetime)
	if idle.Before(absolute) {
		return idle
	}
	return absolute
}

// touch records activity on a session if enough time passed since the last.
func (p *Provider) touch(ctx context.Context, s Session) error {
	now := p.now()
	if now.Sub(s.LastSeen) < p.cfg.SessionIdleTimeout/touchFraction {
		return nil
	}
	err := p.cfg.Sessions.TouchSession(ctx, s.ID, now, p.sessionExpiry(s.CreatedAt, now))
	if isNotFound(err) {
		return nil
	}
	return err
}

// newSession starts a session for a user who just logged in and sets the
// cookie; the session the browser had before, if any, is ended. It runs
// beside the login's own write (see besides): without it the user is only
// asked for the password again next time.
func (p *Provider) newSession(ctx context.Context, w http.ResponseWriter, r *http.Request, subject string, authTime time.Time, amr []string) error {
	value, err := newSecret(p.rand)
	if err != nil {
		return err
	}
	now := p.now()
	s := Session{ID: HashSecret(value), Subject: subject, AuthTime: authTime, AMR: slices.Clone(amr),
		CreatedAt: now, LastSeen: now, Expiry: p.sessionExpiry(now, now)}
	if err := p.cfg.Sessions.CreateSession(ctx, s); err != nil {
		return err
	}
	if old, err := r.Cookie(p.cookieName(sessionCookie)); err == nil && old.Value != "" {
		if err := p.cfg.Sessions.DeleteSession(ctx, HashSecret(old.Value)); err != nil {
			p.log.WarnContext(ctx, "ending the previous session failed", "error", err, "request_id", RequestID(ctx))
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name:     p.cookieName(sessionCookie),
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   p.secureCookies,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int(p.cfg.SessionLifetime / time.Second),
	})
	return nil
}

// clearSessionCookie removes the session cookie from the browser.
func (p *Provider) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: p.cookieName(sessionCookie), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: p.secureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// run2 runs two independent calls concurrently, so that a request pays one
// round trip of latency for both, and returns the first error.
func run2(a, b func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- b() }()
	errA := a()
	errB := <-errc
	if errA != nil {
		return errA
	}
	return errB
}

// besides runs main and, concurrently, side: a write whose failure costs a
// convenience only (a session's idle clock, the single sign-on cookie,
// remembered consent). Its failure is logged; it never fails a request
// whose main write landed and whose answer must then reach the client.
func (p *Provider) besides(ctx context.Context, what string, side, main func() error) error {
	return run2(main, func() error {
		if err := side(); err != nil {
			p.log.WarnContext(ctx, what+" failed", "error", err, "request_id", RequestID(ctx))
		}
		return nil
	})
}

// consentScopes is what an approval covers: the granted scopes and the
// claims requested individually.
func consentScopes(req AuthRequest) []string {
	out := grantedScopes(req.Scopes)
	idClaims, userInfoClaims := requestedClaims(req.Claims)
	for _, c := range append(idClaims, userInfoClaims...) {
		if !slices.Contains(out, "claim:"+c) {
			out = append(out, "claim:"+c)
		}
	}
	return out
}

// needsConsent reports whether the approval page must be shown: always for
// a client that cannot be told from another app on the device (RFC 8252
// §8.6), never with oauth2.skipApprovalScreen, always with prompt=consent,
// otherwise unless a remembered approval covers everything asked for.
func (p *Provider) needsConsent(ctx context.Context, req AuthRequest) (bool, error) {
	client, err := p.cfg.Clients.Client(ctx, req.ClientID)
	if err != nil {
		return false, err
	}
	if unverifiable(client, req.RedirectURI) {
		return true, nil
	}
	if p.cfg.SkipApprovalScreen {
		return false, nil
	}
	if slices.Contains(req.Prompt, promptConsent) {
		return true, nil
	}
	c, err := p.cfg.Consents.Consent(ctx, req.Subject, req.ClientID)
	if isNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range consentScopes(req) {
		if !slices.Contains(c.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// rememberConsent records an approval, adding to what was approved before.
func (p *Provider) rememberConsent(ctx context.Context, req AuthRequest) error {
	scopes := consentScopes(req)
	if c, err := p.cfg.Consents.Consent(ctx, req.Subject, req.ClientID); err == nil {
		for _, s := range c.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	return p.cfg.Consents.PutConsent(ctx, Consent{Subject: req.Subject, ClientID: req.ClientID, Scopes: scopes,
		Expiry: p.now().Add(p.cfg.ConsentLifetime)})
}
