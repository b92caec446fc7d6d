package memory

import (
	"context"
	"slices"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Stored clients (oidc.ClientRegistry) are kept apart from the clients of
// PutClient, which are the config's static clients: the provider looks in
// those first (oidc.ClientDirectory).

// clientItems are the Store's stored clients, a type of their own so
// that Store's method set stays small; Store embeds it.
type clientItems struct{ s *Store }

var _ oidc.ClientRegistry = (*Store)(nil)

// CreateClient implements oidc.ClientRegistry.
func (ci clientItems) CreateClient(_ context.Context, c oidc.StoredClient) error {
	ci.s.mu.Lock()
	defer ci.s.mu.Unlock()
	if _, ok := ci.s.registered[c.ID]; ok {
		return oidc.ErrConflict
	}
	c.Version = 1
	ci.s.registered[c.ID] = cloneClient(c)
	return nil
}

// StoredClient implements oidc.ClientRegistry.
func (ci clientItems) StoredClient(_ context.Context, id string) (oidc.StoredClient, error) {
	ci.s.mu.Lock()
	defer ci.s.mu.Unlock()
	c, ok := ci.s.registered[id]
	if !ok {
		return oidc.StoredClient{}, oidc.ErrNotFound
	}
	return cloneClient(c), nil
}

// UpdateClient implements oidc.ClientRegistry.
func (ci clientItems) UpdateClient(_ context.Context, c oidc.StoredClient) error {
	ci.s.mu.Lock()
	defer ci.s.mu.Unlock()
	old, ok := ci.s.registered[c.ID]
	switch {
	case !ok:
		return oidc.ErrNotFound
	case old.Version != c.Version:
		return oidc.ErrConflict
	}
	c.Version++
	ci.s.registered[c.ID] = cloneClient(c)
	return nil
}

// DeleteClient implements oidc.ClientRegistry.
func (ci clientItems) DeleteClient(_ context.Context, id string) error {
	ci.s.mu.Lock()
	defer ci.s.mu.Unlock()
	if _, ok := ci.s.registered[id]; !ok {
		return oidc.ErrNotFound
	}
	delete(ci.s.registered, id)
	return nil
}

// ListClients implements oidc.ClientRegistry.
func (ci clientItems) ListClients(context.Context) ([]oidc.StoredClient, error) {
	ci.s.mu.Lock()
	defer ci.s.mu.Unlock()
	out := make([]oidc.StoredClient, 0, len(ci.s.registered))
	for _, c := range ci.s.registered {
		out = append(out, cloneClient(c))
	}
	return out, nil
}

// cloneClient copies the slices so callers cannot alias what the store
// holds.
func cloneClient(c oidc.StoredClient) oidc.StoredClient {
	for _, p := range []*[]string{
		&c.RedirectURIs, &c.TrustedPeers, &c.AllowedOrigins, &c.PostLogoutRedirectURIs, &c.GrantTypes,
		&c.AllowedConnectors, &c.SSOSharedWith, &c.AllowedScopes, &c.AllowedAudiences, &c.ResponseTypes, &c.Contacts,
	} {
		*p = slices.Clone(*p)
	}
	return c
}
