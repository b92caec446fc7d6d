package oidc

import (
	"context"
	"time"
)

// Concurrency helpers: two independent calls side by side (one round trip
// of latency), a side write whose failure costs a convenience only, and a
// write that outlives a client hanging up.

// run2 runs two independent calls concurrently, so that a request pays one
// round trip of latency for both, and returns the first error.
func run2(a, b func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- b() }()
	errA := a()
	errB := <-errc
	if errA != nil {
		return errA
	}
	return errB
}

// besides runs main and, concurrently, side: a write whose failure costs a
// convenience only (a session's idle clock, the single sign-on cookie,
// remembered consent). Its failure is logged; it never fails a request
// whose main write landed and whose answer must then reach the client.
func (b *base) besides(ctx context.Context, what string, side, main func() error) error {
	return run2(main, func() error {
		if err := side(); err != nil {
			b.log.WarnContext(ctx, what+" failed", "error", err, "request_id", RequestID(ctx))
		}
		return nil
	})
}

// detach keeps a write going when the client hangs up: once tokens are
// signed, the state change must land or fail on its own deadline.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}
