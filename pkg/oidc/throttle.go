package oidc

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// LoginThrottle limits failed password attempts per window. Three counters
// together stop targeted guessing from one address (PerAccountAndIP),
// spraying many accounts from one address (PerIP) and slow distributed
// guessing of one account (PerAccount), while a stranger cannot lock a user
// out without PerAccount failures. When any counter is at its limit, the
// password is not even checked. Counters are keyed by hashes: the table
// holds no login names or addresses.
type LoginThrottle struct {
	Window          time.Duration // default 15m
	PerAccountAndIP int           // default 5
	PerIP           int           // default 50
	PerAccount      int           // default 100
}

func (t LoginThrottle) withDefaults() LoginThrottle {
	setDefault(&t.Window, 15*time.Minute)
	for _, f := range []struct {
		v *int
		d int
	}{{&t.PerAccountAndIP, 5}, {&t.PerIP, 50}, {&t.PerAccount, 100}} {
		if *f.v <= 0 {
			*f.v = f.d
		}
	}
	return t
}

// throttle applies LoginThrottle at the login form.
type throttle struct {
	*base
	attempts LoginAttempts
}

// throttleKeys are the counters of a login attempt, in the order of
// limits().
func throttleKeys(login, ip string) []string {
	account := strings.ToLower(login)
	return []string{
		"aip:" + HashSecret(account+"\x00"+ip),
		"ip:" + HashSecret(ip),
		"acct:" + HashSecret(account),
	}
}

func (t LoginThrottle) limits() []int { return []int{t.PerAccountAndIP, t.PerIP, t.PerAccount} }

// blocked reports whether any counter of this attempt is at its limit.
func (t *throttle) blocked(ctx context.Context, keys []string) (bool, error) {
	counts, err := t.attempts.FailedLogins(ctx, keys...)
	if err != nil {
		return false, err
	}
	for i, limit := range t.s.LoginThrottle.limits() {
		if i < len(counts) && counts[i] >= limit {
			return true, nil
		}
	}
	return false, nil
}

// recordFailure counts a failed attempt on every counter, side by side.
// A failure to count is logged, not shown: the user's answer is the same.
func (t *throttle) recordFailure(ctx context.Context, keys []string) {
	end := t.now().Add(t.s.LoginThrottle.Window)
	done := make(chan error, len(keys))
	for _, k := range keys {
		go func() {
			_, err := t.attempts.RecordFailedLogin(ctx, k, end)
			done <- err
		}()
	}
	for range keys {
		if err := <-done; err != nil {
			t.log.WarnContext(ctx, "counting a failed login failed", "error", err, "request_id", RequestID(ctx))
		}
	}
}

// clientIP is the address the request came from: the peer of the local
// server, or API Gateway's sourceIp (the Lambda adapter puts it in
// RemoteAddr). Forwarding headers are not trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
