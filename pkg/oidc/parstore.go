package oidc

import (
	"context"
	"time"
)

// PushedRequest is an authorization request a client pushed to the PAR
// endpoint (RFC 9126 §2), validated there and kept until the browser
// brings its request_uri to the authorization endpoint.
type PushedRequest struct {
	// ID is HashSecret of the client's id and the request_uri, so a
	// request_uri presented with another client_id finds nothing (and
	// leaves the pushed request to its client).
	ID       string
	ClientID string
	// Params are the request's parameters, form-encoded: what the
	// authorization endpoint validates again and uses, ignoring its own
	// query but for client_id (RFC 9126 §4).
	Params string
	Expiry time.Time
}

// PushedRequestStore holds pushed authorization requests (RFC 9126).
type PushedRequestStore interface {
	// CreatePushedRequest stores r; ErrConflict, storing nothing, if a live
	// request has its id.
	CreatePushedRequest(ctx context.Context, r PushedRequest) error
	// TakePushedRequest deletes the request id and returns it, in one
	// atomic step: it is the single-use gate of request_uri (RFC 9126
	// §4). Of any number of concurrent callers for one id at most one gets
	// the request; the others, and every caller after its Expiry, get
	// ErrNotFound.
	TakePushedRequest(ctx context.Context, id string) (PushedRequest, error)
}
