package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// Connectors are where users log in, as in Dex: the password database
// (ConnectorLocal) checks a password on the login page; a callback
// connector sends the browser to an upstream identity provider (an OpenID
// Provider, an OAuth 2.0 server, GitHub) and vouches for the user it sends
// back. The core knows connectors only through these interfaces; their
// implementations live in internal/connector, one package per type.

// ConnectorLocal is the id of the password database (Dex's local
// connector), in Client.AllowedConnectors and the connector_id
// authorization parameter.
const ConnectorLocal = "local"

// Connector is one configured connector (Dex's connectors[] entry).
type Connector struct {
	ID   string // in subjects, allowedConnectors and connector_id
	Type string // local, oidc, oauth, github
	Name string // shown on the login page
	// Callback logs users in upstream; nil for the password database.
	Callback CallbackConnector
	// UpstreamRefresh asks the upstream about the user again at every
	// refresh, when Callback is also a RefreshConnector.
	UpstreamRefresh bool
}

// Identity is what a connector vouches for about a user (Dex's
// connector.Identity).
type Identity struct {
	UserID            string // stable at the upstream; with the connector's id, the subject
	Username          string // the name claim
	PreferredUsername string
	Email             string
	EmailVerified     bool
	Groups            []string
	// ConnectorData is what Refresh needs later (an upstream refresh
	// token, an API token): opaque to the core, never logged, and stored
	// only sealed under a secret the client or browser holds.
	ConnectorData []byte
}

// ConnectorScopes are what the client asked for that changes what a
// connector asks the upstream for.
type ConnectorScopes struct {
	OfflineAccess bool // a refresh token: keep what Refresh needs
	Groups        bool
	// ForceLogin: the request asked for a fresh authentication
	// (prompt=login, max_age=0): an upstream that can be asked to
	// authenticate the user again should be (OpenID Connect Core
	// §3.1.2.1), not answer from its own session.
	ForceLogin bool
}

// CallbackConnector logs users in by sending the browser to an upstream,
// which sends it back to the callback URL.
type CallbackConnector interface {
	// LoginURL returns the upstream URL to send the browser to, carrying
	// state unchanged, and the data HandleCallback needs (a nonce, a PKCE
	// verifier), kept sealed until the callback. It may fetch the
	// upstream's metadata (once, then cached).
	LoginURL(ctx context.Context, s ConnectorScopes, callbackURL, state string) (loginURL string, data []byte, err error)
	// HandleCallback completes the login from the upstream's answer: the
	// callback request, whose state the core has checked. An upstream
	// error parameter is ErrUpstreamDenied (access_denied) or an
	// *UpstreamError; timeouts and 5xx answers wrap ErrUnavailable.
	HandleCallback(ctx context.Context, s ConnectorScopes, data []byte, r *http.Request) (Identity, error)
}

// RefreshConnector asks the upstream about a user again when a client
// refreshes, so that groups and disabled accounts are current.
type RefreshConnector interface {
	// Refresh returns the identity as the upstream sees it now, with its
	// ConnectorData (kept when unchanged). ErrUserGone: the upstream no
	// longer knows the user or refuses them.
	Refresh(ctx context.Context, s ConnectorScopes, id Identity) (Identity, error)
}

// TokenIdentityConnector verifies a token the upstream issued, for the
// token exchange grant (RFC 8693) with Dex's connector_id: Dex's
// connector.TokenIdentityConnector.
type TokenIdentityConnector interface {
	// TokenIdentity returns the identity subjectToken speaks for, by the
	// connector's login rules (allowed groups, claim mappings), as
	// HandleCallback would. subjectTokenType is TokenTypeIDToken or
	// TokenTypeAccessToken. The token MUST be verified fully: an ID
	// token's signature by the upstream's keys, issuer, audience (the
	// connector's client) and expiry; an access token by the upstream
	// itself. A token refused is any error but ErrUnavailable, which says
	// the upstream could not be asked.
	TokenIdentity(ctx context.Context, s ConnectorScopes, subjectTokenType, subjectToken string) (Identity, error)
}

// Connector errors, besides ErrUnavailable.
var (
	// ErrUpstreamDenied: the upstream answered access_denied (the user
	// declined). The client gets access_denied.
	ErrUpstreamDenied = errors.New("oidc: the upstream identity provider denied access")
	// ErrUserGone: at refresh, the upstream no longer knows the user or
	// refuses them. The refresh fails with invalid_grant and the grant is
	// revoked.
	ErrUserGone = errors.New("oidc: the upstream identity provider no longer accepts the user")
)

// UpstreamError is an upstream login that failed in a way the user is
// told about on the login page: Reason is shown (short, safe, no secret),
// Err is logged.
type UpstreamError struct {
	Reason string
	Err    error
}

func (e *UpstreamError) Error() string {
	if e.Err == nil {
		return "oidc: upstream login failed: " + e.Reason
	}
	return "oidc: upstream login failed: " + e.Reason + ": " + e.Err.Error()
}

func (e *UpstreamError) Unwrap() error { return e.Err }

// connectors are the configured connectors in login page order.
type connectors []Connector

// defaultConnectors is the list when none is configured: the password
// database alone.
var defaultConnectors = connectors{{ID: ConnectorLocal, Type: ConnectorLocal, Name: "Email"}}

// checkConnectors checks the configured connectors: ids unique and
// non-empty, the password database by its id only, callback connectors
// with the store of their users. None: the password database alone.
func checkConnectors(list []Connector, identities IdentityStore) (connectors, error) {
	if len(list) == 0 {
		return defaultConnectors, nil
	}
	seen := map[string]bool{}
	for _, c := range list {
		switch {
		case c.ID == "" || seen[c.ID]:
			return nil, fmt.Errorf("oidc: connector id %q is empty or not unique", c.ID)
		case (c.ID == ConnectorLocal) != (c.Callback == nil):
			return nil, fmt.Errorf("oidc: connector %q: only the password database (%s) has no callback", c.ID, ConnectorLocal)
		case c.Callback != nil && identities == nil:
			return nil, fmt.Errorf("oidc: connector %q needs Identities", c.ID)
		}
		seen[c.ID] = true
	}
	return connectors(list), nil
}

// ids are the connectors' ids.
func (cs connectors) ids() []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// hasCallback reports whether any connector logs in upstream.
func (cs connectors) hasCallback() bool {
	return slices.ContainsFunc(cs, func(c Connector) bool { return c.Callback != nil })
}

// byID returns the connector id.
func (cs connectors) byID(id string) (Connector, bool) {
	i := slices.IndexFunc(cs, func(c Connector) bool { return c.ID == id })
	if i < 0 {
		return Connector{}, false
	}
	return cs[i], true
}

// allowed lists the connectors client's users may log in with: all when
// AllowedConnectors is empty (Dex), else those it lists, in
// configuration order.
func (cs connectors) allowed(client Client) connectors {
	var out connectors
	for _, c := range cs {
		if connectorAllowed(client, c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// choices are the connectors a login for req may use: the one connector_id
// named, else every connector the client allows.
func (cs connectors) choices(client Client, req AuthRequest) connectors {
	if req.ConnectorID != "" {
		if c, ok := cs.byID(req.ConnectorID); ok && connectorAllowed(client, c.ID) {
			return connectors{c}
		}
		return nil
	}
	return cs.allowed(client)
}

// connectorAllowed reports whether client's users may log in through
// connector: every connector when AllowedConnectors is empty (Dex).
func connectorAllowed(client Client, connector string) bool {
	return len(client.AllowedConnectors) == 0 || slices.Contains(client.AllowedConnectors, connector)
}

// connectorScopes is what of a request matters upstream.
func connectorScopes(req AuthRequest) ConnectorScopes {
	return ConnectorScopes{OfflineAccess: slices.Contains(req.Scopes, ScopeOfflineAccess), Groups: slices.Contains(req.Scopes, ScopeGroups),
		ForceLogin: slices.Contains(req.Prompt, promptLogin) || req.MaxAge == 0}
}
