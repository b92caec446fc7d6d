// Package memory is the embedded-default store: every item in process
// memory, guarded by one mutex. It is what `make run` and most tests use, and
// it passes the same contract suite (oidctest.TestStorage) as the DynamoDB
// store, so the two cannot drift apart.
package memory

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Store keeps items in maps keyed by their hashed ids.
type Store struct {
	now func() time.Time

	mu       sync.Mutex
	requests map[string]oidc.AuthRequest
	codes    map[string]oidc.AuthCode
	grants   map[string]oidc.RefreshGrant
	sessions map[string]oidc.Session
	consents map[[2]string]oidc.Consent // by subject, client
	attempts map[string]attempts
	revoked  map[string]time.Time // access token jti → its expiry
	users    map[string]oidc.User // by subject
	clients  map[string]oidc.Client
}

var (
	_ oidc.AuthRequestStore = (*Store)(nil)
	_ oidc.CodeStore        = (*Store)(nil)
	_ oidc.RefreshStore     = (*Store)(nil)
	_ oidc.RevocationStore  = (*Store)(nil)
	_ oidc.SessionStore     = (*Store)(nil)
	_ oidc.ConsentStore     = (*Store)(nil)
	_ oidc.LoginAttempts    = (*Store)(nil)
	_ oidc.UserStore        = (*Store)(nil)
	_ oidc.ClientStore      = (*Store)(nil)
)

// New returns an empty store that reads time from now.
func New(now func() time.Time) *Store {
	return &Store{
		now:      now,
		requests: map[string]oidc.AuthRequest{},
		codes:    map[string]oidc.AuthCode{},
		grants:   map[string]oidc.RefreshGrant{},
		sessions: map[string]oidc.Session{},
		consents: map[[2]string]oidc.Consent{},
		attempts: map[string]attempts{},
		revoked:  map[string]time.Time{},
		users:    map[string]oidc.User{},
		clients:  map[string]oidc.Client{},
	}
}

// expired reports whether an item with this expiry is past it. Callers hold mu.
func (s *Store) expired(expiry time.Time) bool { return !s.now().Before(expiry) }

// CreateAuthRequest implements oidc.AuthRequestStore.
func (s *Store) CreateAuthRequest(_ context.Context, r oidc.AuthRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, exists := s.requests[r.ID]; exists && !s.expired(cur.Expiry) {
		return oidc.ErrConflict
	}
	r.Version = 1
	s.requests[r.ID] = cloneRequest(r)
	return nil
}

// AuthRequest implements oidc.AuthRequestStore.
func (s *Store) AuthRequest(_ context.Context, id string) (oidc.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok || s.expired(r.Expiry) {
		return oidc.AuthRequest{}, oidc.ErrNotFound
	}
	return cloneRequest(r), nil
}

// UpdateAuthRequest implements oidc.AuthRequestStore.
func (s *Store) UpdateAuthRequest(_ context.Context, r oidc.AuthRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.requests[r.ID]
	if !ok || s.expired(cur.Expiry) {
		return oidc.ErrNotFound
	}
	if cur.Version != r.Version {
		return oidc.ErrConflict
	}
	r.Version++
	s.requests[r.ID] = cloneRequest(r)
	return nil
}

// CompleteAuthRequest implements oidc.AuthRequestStore.
func (s *Store) CompleteAuthRequest(_ context.Context, id string, version int64, code *oidc.AuthCode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.requests[id]
	if !ok || s.expired(cur.Expiry) {
		return oidc.ErrNotFound
	}
	if cur.Version != version {
		return oidc.ErrConflict
	}
	delete(s.requests, id)
	if code != nil {
		c := cloneCode(*code)
		c.Consumed = false
		s.codes[c.ID] = c
	}
	return nil
}

// Code implements oidc.CodeStore.
func (s *Store) Code(_ context.Context, id string) (oidc.AuthCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[id]
	if !ok || s.expired(c.Expiry) {
		return oidc.AuthCode{}, oidc.ErrNotFound
	}
	return cloneCode(c), nil
}

// CreateCode implements oidc.CodeStore.
func (s *Store) CreateCode(_ context.Context, c oidc.AuthCode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.codes[c.ID]; exists {
		return oidc.ErrConflict
	}
	c = cloneCode(c)
	c.Consumed, c.GrantID = false, ""
	s.codes[c.ID] = c
	return nil
}

// RedeemCode implements oidc.CodeStore.
func (s *Store) RedeemCode(_ context.Context, id string, grant *oidc.RefreshGrant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[id]
	if !ok || c.Consumed || s.expired(c.Expiry) {
		return oidc.ErrNotFound
	}
	if grant != nil {
		if _, exists := s.grants[grant.ID]; exists {
			return oidc.ErrConflict
		}
		g := cloneGrant(*grant)
		g.Version = 1
		s.grants[g.ID] = g
		c.GrantID = g.ID
	}
	c.Consumed = true
	s.codes[id] = c
	return nil
}

// RefreshGrant implements oidc.RefreshStore.
func (s *Store) RefreshGrant(_ context.Context, id string) (oidc.RefreshGrant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[id]
	if !ok || s.expired(g.Expiry) {
		return oidc.RefreshGrant{}, oidc.ErrNotFound
	}
	return cloneGrant(g), nil
}

// UpdateRefreshGrant implements oidc.RefreshStore.
func (s *Store) UpdateRefreshGrant(_ context.Context, g oidc.RefreshGrant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.grants[g.ID]
	if !ok || s.expired(cur.Expiry) {
		return oidc.ErrNotFound
	}
	if cur.Version != g.Version {
		return oidc.ErrConflict
	}
	g.Version++
	s.grants[g.ID] = cloneGrant(g)
	return nil
}

// RevokeRefreshGrant implements oidc.RefreshStore.
func (s *Store) RevokeRefreshGrant(_ context.Context, id string, keepUntil time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[id]
	if !ok || s.expired(g.Expiry) {
		return oidc.ErrNotFound
	}
	g.Revoked = true
	if keepUntil.After(g.Expiry) {
		g.Expiry = keepUntil
	}
	g.Version++
	s.grants[id] = g
	return nil
}

// RevokeAccessToken implements oidc.RevocationStore.
func (s *Store) RevokeAccessToken(_ context.Context, jti string, expiry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[jti] = expiry
	return nil
}

// AccessTokenRevoked implements oidc.RevocationStore.
func (s *Store) AccessTokenRevoked(_ context.Context, jti, grantID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.revoked[jti]; ok && !s.expired(exp) {
		return true, nil
	}
	if grantID != "" {
		if g, ok := s.grants[grantID]; ok && g.Revoked && !s.expired(g.Expiry) {
			return true, nil
		}
	}
	return false, nil
}

// CreateSession implements oidc.SessionStore.
func (s *Store) CreateSession(_ context.Context, sess oidc.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, exists := s.sessions[sess.ID]; exists && !s.expired(cur.Expiry) {
		return oidc.ErrConflict
	}
	sess.AMR = slices.Clone(sess.AMR)
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
	sess.AMR = slices.Clone(sess.AMR)
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

// DeleteSession implements oidc.SessionStore.
func (s *Store) DeleteSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
	return nil
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

type attempts struct {
	count int
	end   time.Time
}

// FailedLogins implements oidc.LoginAttempts.
func (s *Store) FailedLogins(_ context.Context, keys ...string) ([]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, len(keys))
	for i, k := range keys {
		if a, ok := s.attempts[k]; ok && !s.expired(a.end) {
			out[i] = a.count
		}
	}
	return out, nil
}

// RecordFailedLogin implements oidc.LoginAttempts.
func (s *Store) RecordFailedLogin(_ context.Context, key string, windowEnd time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.attempts[key]
	if !ok || s.expired(a.end) {
		a = attempts{end: windowEnd}
	}
	a.count++
	s.attempts[key] = a
	return a.count, nil
}

// PutUser adds or replaces the user u.Subject. It fails with ErrConflict,
// storing nothing, if u's email (case-insensitively) or username belongs to
// another user.
func (s *Store) PutUser(_ context.Context, u oidc.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, other := range s.users {
		if other.Subject == u.Subject {
			continue
		}
		if (u.Email != "" && strings.EqualFold(other.Email, u.Email)) || (u.Username != "" && other.Username == u.Username) {
			return oidc.ErrConflict
		}
	}
	s.users[u.Subject] = cloneUser(u)
	return nil
}

// DeleteUser removes the user; ErrNotFound if there is none.
func (s *Store) DeleteUser(_ context.Context, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[subject]; !ok {
		return oidc.ErrNotFound
	}
	delete(s.users, subject)
	return nil
}

// UserByLogin implements oidc.UserStore.
func (s *Store) UserByLogin(_ context.Context, login string) (oidc.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if login == "" {
		return oidc.User{}, oidc.ErrNotFound
	}
	for _, u := range s.users {
		if (u.Email != "" && strings.EqualFold(u.Email, login)) || (u.Username != "" && u.Username == login) {
			return cloneUser(u), nil
		}
	}
	return oidc.User{}, oidc.ErrNotFound
}

// User implements oidc.UserStore.
func (s *Store) User(_ context.Context, subject string) (oidc.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[subject]
	if !ok {
		return oidc.User{}, oidc.ErrNotFound
	}
	return cloneUser(u), nil
}

// PutClient adds or replaces a client.
func (s *Store) PutClient(c oidc.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
}

// Client implements oidc.ClientStore.
func (s *Store) Client(_ context.Context, id string) (oidc.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return oidc.Client{}, oidc.ErrNotFound
	}
	return c, nil
}

// Copies keep callers from aliasing the slices held by the store.

func cloneRequest(r oidc.AuthRequest) oidc.AuthRequest {
	r.Scopes, r.Prompt, r.AMR = slices.Clone(r.Scopes), slices.Clone(r.Prompt), slices.Clone(r.AMR)
	return r
}

func cloneCode(c oidc.AuthCode) oidc.AuthCode {
	c.Scopes, c.AMR = slices.Clone(c.Scopes), slices.Clone(c.AMR)
	return c
}

func cloneGrant(g oidc.RefreshGrant) oidc.RefreshGrant {
	g.Scopes, g.AMR, g.Successor = slices.Clone(g.Scopes), slices.Clone(g.AMR), slices.Clone(g.Successor)
	return g
}

func cloneUser(u oidc.User) oidc.User {
	u.Groups, u.PasswordHash = slices.Clone(u.Groups), slices.Clone(u.PasswordHash)
	if u.Address != nil {
		a := *u.Address
		u.Address = &a
	}
	return u
}
