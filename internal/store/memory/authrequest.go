// Auth requests, from /authorize until login completes, and the
// authorization codes they leave behind for the token endpoint.

package memory

import (
	"context"
	"slices"

	"github.com/serverless-oidc/op/pkg/oidc"
)

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

// cloneRequest and cloneCode copy the slices so callers cannot alias what
// the store holds.

func cloneRequest(r oidc.AuthRequest) oidc.AuthRequest {
	r.Scopes, r.Prompt, r.AMR = slices.Clone(r.Scopes), slices.Clone(r.Prompt), slices.Clone(r.AMR)
	r.ConnectorData, r.Resources = slices.Clone(r.ConnectorData), slices.Clone(r.Resources)
	return r
}

func cloneCode(c oidc.AuthCode) oidc.AuthCode {
	c.Scopes, c.AMR, c.ConnectorData = slices.Clone(c.Scopes), slices.Clone(c.AMR), slices.Clone(c.ConnectorData)
	c.Resources = slices.Clone(c.Resources)
	return c
}
