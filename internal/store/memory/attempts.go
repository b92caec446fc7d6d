// Login attempt counters, for the login throttle.

package memory

import (
	"context"
	"time"
)

// attempts is one key's counter: its count in the window ending at end.
type attempts struct {
	count int
	end   time.Time
}

// ReserveLogin implements oidc.LoginAttempts: the increment is atomic
// under the store's mutex.
func (s *Store) ReserveLogin(_ context.Context, key string, windowEnd time.Time) (int, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.attempts[key]
	if !ok || s.expired(a.end) {
		a = attempts{end: windowEnd}
	}
	a.count++
	s.attempts[key] = a
	return a.count, a.end, nil
}

// ReleaseLogin implements oidc.LoginAttempts.
func (s *Store) ReleaseLogin(_ context.Context, key string, end time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.attempts[key]; ok && a.end.Equal(end) && a.count > 0 {
		a.count--
		s.attempts[key] = a
	}
	return nil
}
