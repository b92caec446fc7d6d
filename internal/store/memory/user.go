// Users (looked up by subject or login) and registered clients.

package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

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

// cloneUser copies the slices and the address so callers cannot alias what
// the store holds.
func cloneUser(u oidc.User) oidc.User {
	u.Groups, u.PasswordHash = slices.Clone(u.Groups), slices.Clone(u.PasswordHash)
	if u.Address != nil {
		a := *u.Address
		u.Address = &a
	}
	return u
}
