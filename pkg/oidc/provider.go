package oidc

import "net/http"

// Config is the whole provider in one process: the settings and every
// backend. The local server and tests build all five endpoint types from
// it with New; a Lambda function builds only its own (NewDiscovery,
// NewJWKS, NewUserInfo, NewToken, NewAuthorize) with only the backends that
// one uses.
type Config struct {
	Settings

	Clients      ClientStore
	Users        UserStore
	AuthRequests AuthRequestStore
	Codes        CodeStore
	Refresh      RefreshStore
	Revocations  RevocationStore
	Sessions     SessionStore
	Consents     ConsentStore
	Attempts     LoginAttempts
	Signer       Signer
	// Connectors, in login page order (none: the password database
	// alone); callback connectors need ConnectorStates and Identities.
	Connectors      []Connector
	ConnectorStates ConnectorStateStore
	Identities      IdentityStore
	// Devices holds device authorizations (the device grant, on by
	// default).
	Devices DeviceRequestStore
	// Registry holds registered clients (the token function's /register).
	Registry ClientRegistry
	// Replays remembers DPoP proofs (RFC 9449), client assertions and
	// request objects; nil: all three are refused.
	Replays ReplayStore
	// PushedRequests holds pushed authorization requests (RFC 9126); nil:
	// PAR is refused.
	PushedRequests PushedRequestStore
	// LogoutHTTPClient is AuthorizeBackends.LogoutHTTPClient.
	LogoutHTTPClient *http.Client
}

// Provider is the five endpoint types mounted together. Build it once and
// serve its handler for the life of the process; it is safe for
// concurrent use.
type Provider struct {
	discovery *Discovery
	handler   http.Handler
}

// endpoint is what each endpoint type gives the router: its handlers by path.
type endpoint interface {
	handlers() map[string]http.HandlerFunc
}

// New validates cfg and builds every endpoint type. It does no I/O.
func New(cfg Config) (*Provider, error) {
	d, err := NewDiscovery(cfg.Settings)
	if err != nil {
		return nil, err
	}
	k, err := NewJWKS(cfg.Settings, cfg.Signer)
	if err != nil {
		return nil, err
	}
	u, err := NewUserInfo(cfg.Settings, UserInfoBackends{
		Clients: cfg.Clients, Users: cfg.Users, Revocations: cfg.Revocations, Signer: cfg.Signer, Identities: cfg.Identities,
		ConnectorIDs: connectorIDs(cfg.Connectors), Replays: cfg.Replays,
	})
	if err != nil {
		return nil, err
	}
	t, err := NewToken(cfg.Settings, TokenBackends{
		Clients: cfg.Clients, Users: cfg.Users, Codes: cfg.Codes, Refresh: cfg.Refresh,
		Revocations: cfg.Revocations, Attempts: cfg.Attempts, Signer: cfg.Signer,
		Connectors: cfg.Connectors, Identities: cfg.Identities, Devices: cfg.Devices, Registry: cfg.Registry,
		Replays: cfg.Replays, PushedRequests: cfg.PushedRequests,
	})
	if err != nil {
		return nil, err
	}
	a, err := NewAuthorize(cfg.Settings, AuthorizeBackends{
		Clients: cfg.Clients, Users: cfg.Users, AuthRequests: cfg.AuthRequests, Codes: cfg.Codes,
		Sessions: cfg.Sessions, Consents: cfg.Consents, Attempts: cfg.Attempts, Signer: cfg.Signer, Pages: HTMLPages(),
		Connectors: cfg.Connectors, ConnectorStates: cfg.ConnectorStates, Identities: cfg.Identities,
		Devices: cfg.Devices, LogoutHTTPClient: cfg.LogoutHTTPClient,
		PushedRequests: cfg.PushedRequests, Replays: cfg.Replays,
	})
	if err != nil {
		return nil, err
	}
	p := &Provider{discovery: d}
	all := map[string]http.HandlerFunc{}
	for _, e := range []endpoint{d, k, u, t, a} {
		for path, h := range e.handlers() {
			all[path] = h
		}
	}
	p.handler = d.router(all, Functions...)
	return p, nil
}

// Handler serves every route: the local server mounts it on one listener.
func (p *Provider) Handler() http.Handler { return p.handler }

// URL returns the absolute URL of an endpoint path.
func (p *Provider) URL(path string) string { return p.discovery.URL(path) }

// connectorIDs are the ids of list, as NewAuthorize completes it (the
// password database alone when empty).
func connectorIDs(list []Connector) []string {
	if len(list) == 0 {
		return defaultConnectors.ids()
	}
	return connectors(list).ids()
}
