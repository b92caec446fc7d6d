// Refresh-token families (one grant per family, rotated in place) and
// revocations of access tokens and grants.

package memory

import (
	"context"
	"slices"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// CreateRefreshGrant implements oidc.RefreshStore.
func (s *Store) CreateRefreshGrant(_ context.Context, g oidc.RefreshGrant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.grants[g.ID]; exists {
		return oidc.ErrConflict
	}
	g.Version = 1
	s.grants[g.ID] = cloneGrant(g)
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

// cloneGrant copies the slices so callers cannot alias what the store holds.
func cloneGrant(g oidc.RefreshGrant) oidc.RefreshGrant {
	g.Scopes, g.AMR, g.Successor = slices.Clone(g.Scopes), slices.Clone(g.AMR), slices.Clone(g.Successor)
	g.ConnectorData, g.Resources = slices.Clone(g.ConnectorData), slices.Clone(g.Resources)
	return g
}
