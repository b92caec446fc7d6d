package oidc

import "context"

// SecurityEvent names an attack signal that only the protocol core can
// see: the answer a client gets (invalid_grant, invalid_client, a refused
// page) looks like any other error from outside. The set is closed (these
// constants, listed in SecurityEvents), so a metric keyed by it has a
// bounded number of series.
type SecurityEvent string

// The security events the core reports through Settings.OnSecurityEvent.
const (
	// EventRefreshTokenReuse: a refresh token that was already rotated
	// came back after the reuse interval; the whole family is revoked
	// (RFC 9700 §4.14.2). The client and an attacker may both hold it.
	EventRefreshTokenReuse SecurityEvent = "refresh_token_reuse"
	// EventAuthorizationCodeReplay: an authorization code was redeemed a
	// second time; the grant it started is revoked (RFC 6749 §4.1.2).
	EventAuthorizationCodeReplay SecurityEvent = "authorization_code_replay"
	// EventDPoPProofReplay: a DPoP proof's jti was presented again
	// (RFC 9449 §11.1).
	EventDPoPProofReplay SecurityEvent = "dpop_proof_replay"
	// EventClientAssertionReplay: a private_key_jwt client assertion's jti
	// was presented again (RFC 7523 §3 item 7).
	EventClientAssertionReplay SecurityEvent = "client_assertion_replay"
	// EventConnectorBrowserMismatch: an upstream identity provider's
	// answer arrived in a browser other than the one that started the
	// login (a login CSRF or a stolen callback URL).
	EventConnectorBrowserMismatch SecurityEvent = "connector_browser_mismatch"
)

// SecurityEvents are every SecurityEvent, for metrics that bound their
// dimensions by it.
var SecurityEvents = []SecurityEvent{
	EventRefreshTokenReuse, EventAuthorizationCodeReplay, EventDPoPProofReplay,
	EventClientAssertionReplay, EventConnectorBrowserMismatch,
}

// SecurityEventFunc is told of each security event as it happens, on the
// request's goroutine, with the request's context. It MUST be quick and
// MUST NOT block (metrics.Recorder.SecurityEvent writes one log line); it
// gets the event's name alone, never a user, a client or a token, so
// nothing secret can leak through it.
type SecurityEventFunc func(ctx context.Context, e SecurityEvent)

// securityEvent reports e to Settings.OnSecurityEvent, if set.
func (b *base) securityEvent(ctx context.Context, e SecurityEvent) {
	if b.s.OnSecurityEvent != nil {
		b.s.OnSecurityEvent(ctx, e)
	}
}
