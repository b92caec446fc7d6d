// Browser sessions and remembered consent.

package memory

import (
	"context"
	"slices"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// CreateSession implements oidc.SessionStore.
func (s *Store) CreateSession(_ context.Context, sess oidc.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, exists := s.sessions[sess.ID]; exists && !s.expired(cur.Expiry) {
		return oidc.ErrConflict
	}
	sess.AMR, sess.Clients = slices.Clone(sess.AMR), slices.Clone(sess.Clients)
	s.sessions[sess.ID] = sess
	return nil
}

// Session implements oidc.SessionStore.
func (s *Store) Session(_ context.Context, id string) (oidc.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || s.expired(sess.Expiry) {
		return oidc.Session{}, oidc.ErrNotFound
	}
	sess.AMR, sess.Clients = slices.Clone(sess.AMR), slices.Clone(sess.Clients)
	return sess, nil
}

// TouchSession implements oidc.SessionStore.
func (s *Store) TouchSession(_ context.Context, id string, lastSeen, expiry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || s.expired(sess.Expiry) {
		return oidc.ErrNotFound
	}
	sess.LastSeen, sess.Expiry = lastSeen, expiry
	s.sessions[id] = sess
	return nil
}

// JoinSession implements oidc.SessionStore.
func (s *Store) JoinSession(_ context.Context, id, sid, clientID string, lastSeen, expiry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || s.expired(sess.Expiry) || sess.SID != sid {
		return oidc.ErrNotFound
	}
	if !slices.Contains(sess.Clients, clientID) {
		sess.Clients = append(slices.Clone(sess.Clients), clientID)
	}
	sess.LastSeen, sess.Expiry = lastSeen, expiry
	s.sessions[id] = sess
	return nil
}

// EndSession implements oidc.SessionStore.
func (s *Store) EndSession(_ context.Context, id string) (oidc.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	delete(s.sessions, id)
	if !ok || s.expired(sess.Expiry) {
		return oidc.Session{}, oidc.ErrNotFound
	}
	return sess, nil
}

// Consent implements oidc.ConsentStore.
func (s *Store) Consent(_ context.Context, subject, clientID string) (oidc.Consent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.consents[[2]string{subject, clientID}]
	if !ok || s.expired(c.Expiry) {
		return oidc.Consent{}, oidc.ErrNotFound
	}
	c.Scopes = slices.Clone(c.Scopes)
	return c, nil
}

// PutConsent implements oidc.ConsentStore.
func (s *Store) PutConsent(_ context.Context, c oidc.Consent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Scopes = slices.Clone(c.Scopes)
	s.consents[[2]string{c.Subject, c.ClientID}] = c
	return nil
}
