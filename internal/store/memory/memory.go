// Package memory is the embedded-default store: every item in process
// memory, guarded by one mutex. It is what `make run` and most tests use, and
// it passes the same contract suite (oidctest.TestStorage) as the DynamoDB
// store, so the two cannot drift apart.
//
// This file holds the store and its clock; the items live beside it by
// concern: authrequest.go (auth requests and codes), refresh.go (refresh
// families and revocations), session.go (sessions and consent),
// attempts.go (login attempt counters), user.go (users and clients) and
// connector.go (connector states and connectors' users) and device.go
// (device authorizations).
package memory

import (
	"sync"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Store keeps items in maps keyed by their hashed ids.
type Store struct {
	now func() time.Time

	mu       sync.Mutex
	requests map[string]oidc.AuthRequest
	codes    map[string]oidc.AuthCode
	grants   map[string]oidc.RefreshGrant
	sessions map[string]oidc.Session
	consents map[[2]string]oidc.Consent // by subject, client
	attempts map[string]attempts
	revoked  map[string]time.Time // access token jti → its expiry
	users    map[string]oidc.User // by subject
	clients  map[string]oidc.Client
	// registered are the stored clients (client.go), by id
	registered map[string]oidc.StoredClient
	states     map[string]oidc.ConnectorState
	idents     map[string]identity // by subject
	devices    map[string]oidc.DeviceRequest
	// userCodes maps a user code's hash to its device request's id.
	userCodes map[string]string
	// used are single-use keys (replay.go) → their expiry.
	used map[string]time.Time
	// pushed are pushed authorization requests (par.go), by id.
	pushed map[string]oidc.PushedRequest
	connectorItems
	replayItems
	parItems
	deviceItems
	clientItems
}

var (
	_ oidc.AuthRequestStore    = (*Store)(nil)
	_ oidc.CodeStore           = (*Store)(nil)
	_ oidc.RefreshStore        = (*Store)(nil)
	_ oidc.RevocationStore     = (*Store)(nil)
	_ oidc.SessionStore        = (*Store)(nil)
	_ oidc.ConsentStore        = (*Store)(nil)
	_ oidc.LoginAttempts       = (*Store)(nil)
	_ oidc.UserStore           = (*Store)(nil)
	_ oidc.ClientStore         = (*Store)(nil)
	_ oidc.ConnectorStateStore = (*Store)(nil)
	_ oidc.IdentityStore       = (*Store)(nil)
)

// New returns an empty store that reads time from now.
func New(now func() time.Time) *Store {
	s := &Store{
		now:        now,
		requests:   map[string]oidc.AuthRequest{},
		codes:      map[string]oidc.AuthCode{},
		grants:     map[string]oidc.RefreshGrant{},
		sessions:   map[string]oidc.Session{},
		consents:   map[[2]string]oidc.Consent{},
		attempts:   map[string]attempts{},
		revoked:    map[string]time.Time{},
		users:      map[string]oidc.User{},
		clients:    map[string]oidc.Client{},
		registered: map[string]oidc.StoredClient{},
		states:     map[string]oidc.ConnectorState{},
		idents:     map[string]identity{},
		devices:    map[string]oidc.DeviceRequest{},
		userCodes:  map[string]string{},
	}
	s.connectorItems = connectorItems{s}
	s.replayItems = replayItems{s}
	s.parItems = parItems{s}
	s.deviceItems = deviceItems{s}
	s.clientItems = clientItems{s}
	return s
}

// expired reports whether an item with this expiry is past it. Callers hold mu.
func (s *Store) expired(expiry time.Time) bool { return !s.now().Before(expiry) }
