// Pushed authorization requests (RFC 9126), for oidc.PushedRequestStore.

package memory

import (
	"context"

	"github.com/serverless-oidc/op/pkg/oidc"
)

var _ oidc.PushedRequestStore = (*Store)(nil)

// parItems are the Store's pushed requests, a type of its own (as
// replayItems) so that each type's method set stays small; the Store
// embeds it.
type parItems struct{ s *Store }

// CreatePushedRequest implements oidc.PushedRequestStore.
func (c parItems) CreatePushedRequest(_ context.Context, r oidc.PushedRequest) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pushed == nil {
		s.pushed = map[string]oidc.PushedRequest{}
	}
	if old, ok := s.pushed[r.ID]; ok && !s.expired(old.Expiry) {
		return oidc.ErrConflict
	}
	s.pushed[r.ID] = r
	if len(s.pushed)%1024 == 0 {
		for k, old := range s.pushed {
			if s.expired(old.Expiry) {
				delete(s.pushed, k)
			}
		}
	}
	return nil
}

// TakePushedRequest implements oidc.PushedRequestStore: the read and the
// delete are one step under the store's mutex.
func (c parItems) TakePushedRequest(_ context.Context, id string) (oidc.PushedRequest, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pushed[id]
	delete(s.pushed, id)
	if !ok || s.expired(r.Expiry) {
		return oidc.PushedRequest{}, oidc.ErrNotFound
	}
	return r, nil
}
