// Single-use values (DPoP proof jti), for oidc.ReplayStore.

package memory

import (
	"context"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

var _ oidc.ReplayStore = (*Store)(nil)

// replayItems are the Store's single-use values, a type of its own (as
// connectorItems) so that each type's method set stays small; the Store
// embeds it.
type replayItems struct{ s *Store }

// UseOnce implements oidc.ReplayStore: the check and the record are one
// step under the store's mutex. Expired keys are dropped as they are met.
func (c replayItems) UseOnce(_ context.Context, key string, expiry time.Time) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == nil {
		s.used = map[string]time.Time{}
	}
	if exp, ok := s.used[key]; ok && !s.expired(exp) {
		return oidc.ErrConflict
	}
	s.used[key] = expiry
	if len(s.used)%1024 == 0 {
		for k, exp := range s.used {
			if s.expired(exp) {
				delete(s.used, k)
			}
		}
	}
	return nil
}
