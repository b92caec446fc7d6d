package oidc

import (
	"context"
	"time"
)

// The storage ports of callback connectors (storage.go's rules apply):
// upstream logins in flight and the users connectors vouched for.

// ConnectorState is an upstream login in flight: the browser went to a
// callback connector's upstream with a state, and comes back with it to
// the callback. It binds the upstream answer to the pending request and to
// the browser that started it, and is used once.
type ConnectorState struct {
	ID            string // HashSecret of the state sent upstream
	AuthRequestID string
	ConnectorID   string
	BrowserHash   string // HashSecret of the browser binding cookie
	// Sealed holds the pending request's handle and the connector's data
	// (its nonce and PKCE verifier), sealed under the state: only the
	// browser that returns with the state opens them.
	Sealed []byte
	Expiry time.Time
}

// ConnectorStateStore holds upstream logins in flight.
type ConnectorStateStore interface {
	// CreateConnectorState stores s; ErrConflict if the id exists.
	CreateConnectorState(ctx context.Context, s ConnectorState) error
	// ConnectorState returns the state, or ErrNotFound if it is unknown,
	// taken or past its Expiry. Reading does not use it up.
	ConnectorState(ctx context.Context, id string) (ConnectorState, error)
	// TakeConnectorState deletes the state if it still lives: the
	// single-use gate of a callback. Of any number of concurrent callers
	// exactly one succeeds; the others, and any caller after expiry, get
	// ErrNotFound.
	TakeConnectorState(ctx context.Context, id string) error
}

// IdentityStore keeps the users that callback connectors vouched for, by
// subject, so that code exchange, refresh and userinfo find them as they
// find the password database's users. Each login and each upstream
// refresh replaces the record.
type IdentityStore interface {
	// PutIdentity stores u under u.Subject until expiry, replacing any
	// earlier record of that subject.
	PutIdentity(ctx context.Context, u User, expiry time.Time) error
	// Identity returns the user, or ErrNotFound if unknown or expired.
	Identity(ctx context.Context, subject string) (User, error)
}
