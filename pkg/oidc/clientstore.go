package oidc

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Client is a registered relying party.
type Client struct {
	ID   string
	Name string
	// SecretHash is HashSecret of the client secret; empty for public clients.
	SecretHash   string
	Public       bool
	RedirectURIs []string
	TrustedPeers []string
	// AllowedOrigins are web origins allowed to call the back-channel
	// endpoints from a browser (CORS), beside the provider-wide list.
	AllowedOrigins []string
	// PostLogoutRedirectURIs are where RP-initiated logout may return the
	// browser (exact match).
	PostLogoutRedirectURIs []string
	// GrantTypes are the token endpoint grants this client may use, within
	// Settings.GrantTypes; empty: all of those but the opt-in ones. The
	// password grant is allowed only when listed here (RFC 9700 §2.4).
	GrantTypes []string
	// AllowedConnectors are the connectors this client's users may log in
	// with (Dex's allowedConnectors); empty: all. Only ConnectorLocal, the
	// password database, exists: a list without it refuses every login.
	AllowedConnectors []string
	// SSOSharedWith are the other clients a single sign-on session started
	// by a login for this client may answer without a password (Dex's
	// ssoSharedWith): their ids, or "*" for all; empty: none. It counts
	// only when SSOSharedWithSet; otherwise Settings.SSOSharedWithDefault
	// decides. The zero Client shares by that default.
	SSOSharedWith    []string
	SSOSharedWithSet bool
	// LogoURL is shown on the approval page beside Name when it passes
	// CheckLogoURL (an https URL); that page's CSP then allows its origin.
	LogoURL string
	// AllowedScopes are the scopes a client credentials grant
	// (RFC 6749 §4.4) may give this client for itself; never openid nor a
	// scope about users (IsUserScope). A request without scope gets them
	// all; empty: tokens without scope.
	AllowedScopes []string
	// AllowedAudiences are the audiences (absolute URIs) a client
	// credentials token may be issued for, by the resource or audience
	// parameter (RFC 8707); none asked: the default audience.
	AllowedAudiences []string
	// IDTokenSigningAlg (id_token_signed_response_alg) is the algorithm of
	// its ID tokens, one of Settings.IDTokenSigningAlgorithms; empty:
	// Settings.IDTokenSigningAlgorithm. ES256: a refresh signs no RSA.
	IDTokenSigningAlg string
	// UserInfoSigningAlg (userinfo_signed_response_alg, the same set), when
	// set, makes userinfo answer a signed JWT (OpenID Connect Core §5.3.2).
	UserInfoSigningAlg string
	// OmitRefreshIDToken leaves the ID token out of refresh responses
	// (OpenID Connect Core §12.2 makes it optional): a refresh then signs
	// the access token alone.
	OmitRefreshIDToken bool
	// TokenEndpointAuthMethod, when set, is the one way this client
	// authenticates at the back-channel endpoints (RFC 7591 §2:
	// client_secret_basic, client_secret_post, private_key_jwt or none);
	// empty: either secret method, or none for a public client.
	TokenEndpointAuthMethod string
	// RequireDPoP refuses this client's token requests without a DPoP
	// proof (RFC 9449 §5.2.1 dpop_bound_access_tokens): every access token
	// it gets is sender-constrained.
	RequireDPoP bool
	// JWKS (a JWK Set, JSON) or JWKSURI: the keys of a private_key_jwt
	// client, which sign its request objects too; ParseClientJWKS, CheckJWKSURI.
	JWKS, JWKSURI string
	// HMACSecret is the secret in the clear of a client_secret_jwt client
	// (TokenEndpointAuthMethod), its HMAC key: static clients of the
	// config only (never stored, never logged; registration refuses the
	// method, since a stored client's secret is only a hash).
	HMACSecret string `json:"-"`
	// RequestObjectSigningAlg is the one JWS algorithm of the client's
	// request objects (OpenID Connect Dynamic Client Registration's
	// request_object_signing_alg); "none" allows unsigned ones, which are
	// refused otherwise; empty: any of RequestObjectSigningAlgorithms its
	// keys can verify.
	RequestObjectSigningAlg string
	// RequirePAR: the client's authorization requests must be pushed
	// (RFC 9126 §6 require_pushed_authorization_requests).
	RequirePAR bool
	// BackchannelLogoutURI, when set, receives a logout token when a
	// single sign-on session this client signed in through ends (OpenID
	// Connect Back-Channel Logout 1.0 §2.2); CheckBackchannelLogoutURI.
	BackchannelLogoutURI string
	// BackchannelLogoutSessionRequired: the client needs sid in logout
	// and ID tokens (§2.2), which always carry it: only kept.
	BackchannelLogoutSessionRequired bool
	// SelfRegistered: the client registered itself (RFC 7591); no operator
	// vouched for its redirect URIs, so its users always see the approval
	// page, whatever skipApprovalScreen says (RFC 9700 §4.11.2). Set by
	// ClientDirectory, never stored.
	SelfRegistered bool
	// Profile holds this client to a security profile (ProfileFAPI2), or
	// "" for the provider's (Settings.Profile).
	Profile string
}

// ClientStore looks up relying parties.
type ClientStore interface {
	// Client returns the client or ErrNotFound.
	Client(ctx context.Context, id string) (Client, error)
}

// StoredClient is a client kept in storage, beside the static clients of
// the config: registered by its relying party (RFC 7591) or created by an
// operator (oidcctl clients). Its secret and its registration access token
// are kept only as HashSecret hashes.
type StoredClient struct {
	Client
	// Disabled clients are not found by the provider (ClientDirectory):
	// they authenticate nowhere and start no login. The item stays, for
	// the operator to enable again or delete.
	Disabled bool
	// RegistrationTokenHash is HashSecret of the registration access token
	// (RFC 7592 §1); "" for a client made by an operator, which then has
	// no client configuration endpoint.
	RegistrationTokenHash string
	// The RFC 7591 §2 metadata the provider keeps and returns but does
	// not act on.
	ResponseTypes []string
	Scope         string // as registered: space-separated
	Contacts      []string
	ClientURI     string
	PolicyURI     string
	TOSURI        string
	// CreatedAt is client_id_issued_at (RFC 7591 §3.2.1).
	CreatedAt time.Time
	// Version is maintained by the store for optimistic concurrency.
	Version int64
}

// ClientRegistry holds the stored clients: what dynamic registration and
// oidcctl write. Every method reads and writes the store directly (no
// cache): ClientDirectory is the cached view the endpoints use.
type ClientRegistry interface {
	// CreateClient stores c with Version 1; ErrConflict, storing nothing,
	// if a stored client has c.ID.
	CreateClient(ctx context.Context, c StoredClient) error
	// StoredClient returns the client, disabled or not; ErrNotFound if
	// there is none.
	StoredClient(ctx context.Context, id string) (StoredClient, error)
	// UpdateClient replaces the stored client with c if its Version still
	// equals c.Version, storing Version+1. It MUST fail with ErrConflict if
	// another update came first and ErrNotFound if the client is gone: of
	// concurrent updates from one version exactly one succeeds.
	UpdateClient(ctx context.Context, c StoredClient) error
	// DeleteClient removes the client; ErrNotFound if there is none.
	DeleteClient(ctx context.Context, id string) error
	// ListClients returns every stored client, in no particular order. It
	// reads the whole set: for operators, never on a request path.
	ListClients(ctx context.Context) ([]StoredClient, error)
}

// ClientCacheTTL is how long a container keeps a stored client it read:
// a client that an operator disabled or deleted, or whose registration was
// deleted or changed, keeps working in other containers for at most this
// long. A client unknown to the store is never cached, so a newly
// registered client works at once everywhere.
const ClientCacheTTL = 30 * time.Second

// clientCacheMax bounds the cache: past it, entries are evicted (expired
// ones first), so client ids an attacker makes up cost memory only as
// long as they exist in the store.
const clientCacheMax = 4096

// ClientDirectory is the ClientStore the endpoints use: the static clients
// of the config first (in memory: no round trip, and a static client
// always wins over a stored one with the same id), then the stored
// clients, each kept for ClientCacheTTL per container so that most token
// requests cost no extra read. It is safe for concurrent use.
type ClientDirectory struct {
	static ClientStore
	stored ClientRegistry // nil: static clients only
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	c       StoredClient
	fetched time.Time
}

// NewClientDirectory looks clients up in static, then in stored (nil: the
// static clients alone), caching stored ones for ttl (ClientCacheTTL when
// zero) by the clock now.
func NewClientDirectory(static ClientStore, stored ClientRegistry, ttl time.Duration, now func() time.Time) *ClientDirectory {
	if ttl <= 0 {
		ttl = ClientCacheTTL
	}
	if now == nil {
		now = time.Now
	}
	return &ClientDirectory{static: static, stored: stored, ttl: ttl, now: now, cache: map[string]cachedClient{}}
}

var _ ClientStore = (*ClientDirectory)(nil)

// Client implements ClientStore. A disabled stored client is ErrNotFound.
func (d *ClientDirectory) Client(ctx context.Context, id string) (Client, error) {
	c, err := d.static.Client(ctx, id)
	if d.stored == nil || !errors.Is(err, ErrNotFound) {
		return c, err
	}
	if id == "" || len(id) > maxClientIDLength {
		return Client{}, ErrNotFound
	}
	now := d.now()
	d.mu.Lock()
	e, ok := d.cache[id]
	d.mu.Unlock()
	if !ok || now.Sub(e.fetched) >= d.ttl || now.Before(e.fetched) {
		sc, err := d.stored.StoredClient(ctx, id)
		if errors.Is(err, ErrNotFound) {
			d.Forget(id)
			return Client{}, ErrNotFound
		}
		if err != nil {
			return Client{}, err
		}
		e = cachedClient{c: sc, fetched: now}
		d.put(id, e)
	}
	if e.c.Disabled {
		return Client{}, ErrNotFound
	}
	c = e.c.Client
	c.SelfRegistered = e.c.RegistrationTokenHash != ""
	return c, nil
}

// IsStatic reports whether id is a static client's: such an id cannot be
// registered, and oidcctl does not manage it.
func (d *ClientDirectory) IsStatic(ctx context.Context, id string) (bool, error) {
	_, err := d.static.Client(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Forget drops id from this container's cache: the registration endpoint
// calls it after it changed or deleted the client, so that the container
// that made the change sees it at once.
func (d *ClientDirectory) Forget(id string) {
	d.mu.Lock()
	delete(d.cache, id)
	d.mu.Unlock()
}

func (d *ClientDirectory) put(id string, e cachedClient) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.cache) >= clientCacheMax {
		for k, old := range d.cache {
			if e.fetched.Sub(old.fetched) >= d.ttl {
				delete(d.cache, k)
			}
		}
		for k := range d.cache {
			if len(d.cache) < clientCacheMax {
				break
			}
			delete(d.cache, k) // map order: an arbitrary victim
		}
	}
	d.cache[id] = e
}

// maxClientIDLength bounds the client ids looked up in storage: longer
// ones exist nowhere (registered ids are 43 characters), and a store key
// has limits of its own.
const maxClientIDLength = 256
