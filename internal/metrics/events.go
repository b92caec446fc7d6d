package metrics

import (
	"context"
	"slices"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// MetricSecurityEvents counts security events (dimension DimEvent).
const MetricSecurityEvents = "SecurityEvents"

// DimEvent is the security event's name: one of Events.
const DimEvent = "Event"

// EventOriginRejected is a request refused by the edge's origin check (a
// missing or wrong X-Origin-Verify: someone calling the execute-api
// endpoint around CloudFront and AWS WAF, or a stale origin secret). The
// composition root sees it, not the core.
const EventOriginRejected = "origin_rejected"

// EventSigningKeyRefused is a stored signing key or key set refused as
// not authenticated (the data-key signer's RefusedMessage: a table
// writer's tampering, or the manifest deleted for recovery). The signer
// sees it, not the core.
const EventSigningKeyRefused = "signing_key_refused"

// Events are the values of DimEvent: the core's oidc.SecurityEvents,
// EventOriginRejected and EventSigningKeyRefused.
var Events = func() []string {
	out := []string{EventOriginRejected, EventSigningKeyRefused}
	for _, e := range oidc.SecurityEvents {
		out = append(out, string(e))
	}
	return out
}()

// SecurityEvent records one security event of the core (an
// oidc.SecurityEventFunc for Settings.OnSecurityEvent): SecurityEvents
// per function and event. The line carries the event's name alone: never
// a user, a client or a token.
func (r *Recorder) SecurityEvent(_ context.Context, e oidc.SecurityEvent) {
	r.event(string(e))
}

// OriginRejected records a request refused by the origin check.
func (r *Recorder) OriginRejected() { r.event(EventOriginRejected) }

// SigningKeyRefused records a signing key or key set refused by the
// signer (backend.Env.OnSigningKeyRefused).
func (r *Recorder) SigningKeyRefused(context.Context) { r.event(EventSigningKeyRefused) }

func (r *Recorder) event(name string) {
	if r == nil {
		return
	}
	if !slices.Contains(Events, name) {
		name = Other
	}
	l := r.newLine()
	l.add([][]string{{DimFunction, DimEvent}, {DimEvent}}, count(MetricSecurityEvents),
		map[string]any{DimEvent: name, MetricSecurityEvents: 1})
	r.write(l)
}
