// Upstream logins in flight and the users callback connectors vouched for.

package memory

import (
	"context"
	"slices"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// connectorItems are the Store's connector states and identities, a type
// of their own so that each type's method set stays small; the Store
// embeds it, so it implements the ports.
type connectorItems struct{ s *Store }

// identity is a connector's user with its expiry.
type identity struct {
	user   oidc.User
	expiry time.Time
}

// CreateConnectorState implements oidc.ConnectorStateStore.
func (c connectorItems) CreateConnectorState(_ context.Context, st oidc.ConnectorState) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, exists := s.states[st.ID]; exists && !s.expired(cur.Expiry) {
		return oidc.ErrConflict
	}
	st.Sealed = slices.Clone(st.Sealed)
	s.states[st.ID] = st
	return nil
}

// ConnectorState implements oidc.ConnectorStateStore.
func (c connectorItems) ConnectorState(_ context.Context, id string) (oidc.ConnectorState, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[id]
	if !ok || s.expired(st.Expiry) {
		return oidc.ConnectorState{}, oidc.ErrNotFound
	}
	st.Sealed = slices.Clone(st.Sealed)
	return st, nil
}

// TakeConnectorState implements oidc.ConnectorStateStore.
func (c connectorItems) TakeConnectorState(_ context.Context, id string) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[id]
	delete(s.states, id)
	if !ok || s.expired(st.Expiry) {
		return oidc.ErrNotFound
	}
	return nil
}

// PutIdentity implements oidc.IdentityStore.
func (c connectorItems) PutIdentity(_ context.Context, u oidc.User, expiry time.Time) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idents[u.Subject] = identity{user: cloneUser(u), expiry: expiry}
	return nil
}

// Identity implements oidc.IdentityStore.
func (c connectorItems) Identity(_ context.Context, subject string) (oidc.User, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.idents[subject]
	if !ok || s.expired(id.expiry) {
		return oidc.User{}, oidc.ErrNotFound
	}
	return cloneUser(id.user), nil
}
