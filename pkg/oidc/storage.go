package oidc

import (
	"context"
	"errors"
	"time"
)

// Storage errors. Stores wrap their own failures with these so the protocol
// core can answer with the right OAuth error; compare with errors.Is.
var (
	// ErrNotFound: the item does not exist, has expired, or was consumed.
	ErrNotFound = errors.New("oidc: not found")
	// ErrConflict: an optimistic update lost to a concurrent writer.
	ErrConflict = errors.New("oidc: conflicting update")
	// ErrUnavailable: a dependency (storage, signing) is throttled, timed out
	// or failing. Answered as temporarily_unavailable, never with its text.
	ErrUnavailable = errors.New("oidc: temporarily unavailable")
)

// Every secret the provider hands out (request handles, codes, refresh
// tokens, session ids) is stored only as HashSecret of its value: a store
// never sees, and a leaked table never reveals, a usable secret. Fields named
// ID below hold such hashes.
//
// Every store MUST treat an item whose Expiry has passed (by the clock the
// store was built with) as absent, whatever its backend does about deleting
// it, and keep times to at least the millisecond. A write whose outcome is
// unknown (a transaction still contended after retries) fails with
// ErrUnavailable: the caller answers "retry", and nothing it holds is lost.
// Every store MUST pass the contract suites in package oidctest.

// AuthRequest is a pending authorization request: validated at /authorize,
// completed by the login and consent pages.
type AuthRequest struct {
	ID           string // HashSecret of the handle in the login form
	ClientID     string
	RedirectURI  string
	ResponseType string
	ResponseMode string
	Scopes       []string
	State        string
	Nonce        string
	// PKCE (RFC 7636). Method is always S256 when Challenge is set.
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              int // seconds; -1 when absent
	LoginHint           string
	// Claims is the validated claims request parameter (OpenID Connect Core
	// §5.5) as compact JSON, or "".
	Claims string
	// Resources are the resource servers the request named (RFC 8707 §2:
	// the resource parameters, each a ResourceServer.ID), in request
	// order; nil for a token for userinfo only.
	Resources []string
	// HintSubject is the sub of the request's id_token_hint: the login must
	// be that user's (OpenID Connect Core §3.1.2.1).
	HintSubject string
	// CSRFHash binds the login and consent forms; BrowserHash binds the
	// request to the browser that started it (a cookie), defeating login CSRF.
	CSRFHash    string
	BrowserHash string
	// ConnectorID is the connector the login must use: the validated
	// connector_id parameter, or "" for any the client allows.
	ConnectorID string
	// Set once the user has authenticated.
	Subject  string
	AuthTime time.Time
	AMR      []string
	// ConnectorData is the upstream connector's refresh data
	// (Identity.ConnectorData), sealed under the request's handle.
	ConnectorData []byte
	// DPoPJKT is the dpop_jkt parameter (RFC 9449 §10): the thumbprint of
	// the key the code's token request must prove.
	DPoPJKT string
	// DeviceRequestID is the DeviceRequest (its ID) this request decides,
	// for a login started at the device page; RedirectURI is then
	// deviceRedirect.
	DeviceRequestID string
	// SID is the sid of the single sign-on session the login started or
	// answered from (Session.SID), for the ID tokens; "" for none.
	SID    string
	Expiry time.Time
	// Version is maintained by the store for optimistic concurrency.
	Version int64
}

// AuthCode is an issued authorization code (RFC 6749 §4.1.2).
type AuthCode struct {
	ID                  string // HashSecret of the code
	ClientID            string
	RedirectURI         string
	Subject             string
	Scopes              []string
	Nonce               string
	AuthTime            time.Time
	AMR                 []string
	CodeChallenge       string
	CodeChallengeMethod string
	Claims              string   // as AuthRequest.Claims
	Resources           []string // as AuthRequest.Resources
	// ConnectorData is Identity.ConnectorData sealed under the code.
	ConnectorData []byte
	DPoPJKT       string // as AuthRequest.DPoPJKT
	SID           string // as AuthRequest.SID
	Expiry        time.Time
	// Consumed is set by RedeemCode. A consumed code stays readable until it
	// expires so that a replay can be recognised (RFC 6749 §4.1.2).
	Consumed bool
	// GrantID is set by RedeemCode: the refresh family the code started.
	GrantID string
}

// AuthRequestStore holds pending authorization requests.
type AuthRequestStore interface {
	// CreateAuthRequest stores r with Version 1; ErrConflict if the id exists.
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	// AuthRequest returns the request, or ErrNotFound if it is unknown,
	// completed or past its Expiry.
	AuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// UpdateAuthRequest replaces the stored request with r if the stored
	// Version still equals r.Version, and stores it with Version+1. It MUST
	// fail with ErrConflict if another update came first and ErrNotFound if
	// the request is gone or expired; of concurrent updates from the same
	// version exactly one succeeds.
	UpdateAuthRequest(ctx context.Context, r AuthRequest) error
	// CompleteAuthRequest deletes the request id, provided its Version still
	// equals version, and stores code (if not nil), as one atomic step: of any
	// number of concurrent callers exactly one succeeds; the others get
	// ErrNotFound or ErrConflict and store nothing.
	CompleteAuthRequest(ctx context.Context, id string, version int64, code *AuthCode) error
}

// CodeStore holds authorization codes.
type CodeStore interface {
	// Code returns the code, consumed or not, until its Expiry; ErrNotFound
	// if unknown or expired.
	Code(ctx context.Context, id string) (AuthCode, error)
	// CreateCode stores a code issued without a pending request (a silent
	// authorization from a single sign-on session); ErrConflict if the id
	// exists.
	CreateCode(ctx context.Context, code AuthCode) error
	// RedeemCode marks the code consumed and, when grant is not nil, creates
	// that refresh token family, as one atomic step (one conditional write or
	// transaction). It is the single-use gate: of any number of concurrent
	// callers for the same code exactly one succeeds; the others, and any
	// caller after expiry, get ErrNotFound and store nothing. The consumed
	// code records grant.ID as its GrantID, so a replay can revoke it.
	RedeemCode(ctx context.Context, id string, grant *RefreshGrant) error
}

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
	// IDTokenSigningAlg is the JWS algorithm of this client's ID tokens
	// (OpenID Connect Dynamic Client Registration's
	// id_token_signed_response_alg): one of
	// Settings.IDTokenSigningAlgorithms; empty: the provider's default
	// (Settings.IDTokenSigningAlgorithm, RS256). ES256 for a client that
	// accepts it makes a refresh sign no RSA at all.
	IDTokenSigningAlg string
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
	// client (TokenEndpointAuthMethod); ParseClientJWKS, CheckJWKSURI.
	JWKS, JWKSURI string
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

// RefreshGrant is a refresh token family (RFC 9700 §4.14.2): the grant a
// code started, carried forward by each rotation. One item per family, so a
// refresh costs one read and one conditional write.
type RefreshGrant struct {
	ID       string // HashSecret of the family secret in every token of the family
	ClientID string
	Subject  string
	Scopes   []string
	AuthTime time.Time
	AMR      []string
	Claims   string // the claims request the grant was approved with
	// Resources are the resource servers granted (AuthRequest.Resources):
	// a refresh may name a subset of them, never another (RFC 8707 §2.2).
	Resources []string
	// ConnectorData is Identity.ConnectorData sealed under the family
	// secret: only a refresh token of the family opens it, for the
	// connector to ask the upstream about the user again.
	ConnectorData []byte
	// DPoPJKT binds the family of a public client to the DPoP key its
	// first tokens were issued for (RFC 9449 §5): a refresh must prove it.
	DPoPJKT string
	SID     string // the code's AuthCode.SID, for refreshed ID tokens
	// TokenHash is HashSecret of the current token; PreviousHash of the one
	// it replaced, accepted until RotatedAt+reuseInterval, when the same
	// successor is returned again: Successor is that token, AES-GCM sealed
	// under a key derived from the previous token, so only its holder can
	// open it and the table never holds a usable token.
	TokenHash    string
	PreviousHash string
	Successor    []byte
	RotatedAt    time.Time
	Generation   int64
	CreatedAt    time.Time // first issue of the family (absoluteLifetime)
	LastUsed     time.Time // last refresh (validIfNotUsedFor)
	Expiry       time.Time
	Revoked      bool
	// Version is maintained by the store for optimistic concurrency.
	Version int64
}

// RefreshStore holds refresh token families.
type RefreshStore interface {
	// CreateRefreshGrant stores a new family g with Version 1, for a grant
	// that starts without a code (the password grant); ErrConflict if the
	// id exists. (A code's family is created by CodeStore.RedeemCode, in
	// the same atomic step that consumes the code.)
	CreateRefreshGrant(ctx context.Context, g RefreshGrant) error
	// RefreshGrant returns the family, revoked or not, until its Expiry;
	// ErrNotFound if unknown or expired.
	RefreshGrant(ctx context.Context, id string) (RefreshGrant, error)
	// UpdateRefreshGrant replaces the family with g if the stored Version
	// still equals g.Version, storing Version+1. It MUST fail with
	// ErrConflict if another update came first and ErrNotFound if the family
	// is gone or expired: of concurrent updates from one version exactly one
	// succeeds, so a token is rotated at most once.
	UpdateRefreshGrant(ctx context.Context, g RefreshGrant) error
	// RevokeRefreshGrant marks the family revoked and keeps it at least
	// until keepUntil (so access tokens it issued can be checked against it).
	// It is idempotent; ErrNotFound if unknown or expired.
	RevokeRefreshGrant(ctx context.Context, id string, keepUntil time.Time) error
}

// RevocationStore records revoked access tokens (RFC 7009).
type RevocationStore interface {
	// RevokeAccessToken records jti as revoked until expiry (the token's exp).
	RevokeAccessToken(ctx context.Context, jti string, expiry time.Time) error
	// AccessTokenRevoked reports whether the access token jti was revoked,
	// or the refresh family grantID it came from (when not "") was revoked,
	// in ONE round trip: userinfo pays it on every call.
	AccessTokenRevoked(ctx context.Context, jti, grantID string) (bool, error)
}

// Session is a browser's single sign-on session: the user signed in once,
// and later authorization requests from the clients the login's client
// shares with (Client.SSOSharedWith) are answered without a password while
// it lives.
type Session struct {
	ID      string // HashSecret of the session cookie's value
	Subject string
	// ClientID is the client whose login started the session; its sharing
	// policy decides which other clients the session may answer.
	ClientID string
	AuthTime time.Time
	AMR      []string
	// CreatedAt bounds the absolute lifetime; LastSeen the idle timeout.
	CreatedAt time.Time
	LastSeen  time.Time
	Expiry    time.Time
	// SID is the session's sid claim (OpenID Connect Back-Channel Logout
	// §2.1): random, not secret, never derived from the cookie.
	SID string
	// Clients are the other clients the session answered (JoinSession):
	// with ClientID, those a logout token goes to when it ends.
	Clients []string
}

// SessionStore holds browser sessions.
type SessionStore interface {
	// CreateSession stores a new session; ErrConflict if the id exists.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session or ErrNotFound if unknown, ended or expired.
	Session(ctx context.Context, id string) (Session, error)
	// TouchSession records activity: it sets LastSeen and Expiry of a live
	// session (ErrNotFound otherwise). Last writer wins; both are monotonic
	// in practice, and an idle timeout needs no stronger guarantee.
	TouchSession(ctx context.Context, id string, lastSeen, expiry time.Time) error
	// JoinSession records that the live session id whose SID is sid
	// answered clientID: it adds clientID to Clients (a set: adding twice
	// keeps one) and sets LastSeen and Expiry as TouchSession does, in one
	// write; ErrNotFound if the session is unknown, expired or has another
	// SID. Concurrent joins MUST all be kept.
	JoinSession(ctx context.Context, id, sid, clientID string, lastSeen, expiry time.Time) error
	// EndSession deletes the session and returns it as it was, in one
	// step (who ends it learns which clients to notify); ErrNotFound if it
	// is unknown or expired (an expired one is deleted all the same). Of
	// concurrent callers at most one gets the session.
	EndSession(ctx context.Context, id string) (Session, error)
}

// Consent is what a user approved for a client, remembered so the approval
// page appears again only for something new.
type Consent struct {
	Subject  string
	ClientID string
	// Scopes approved, plus "claim:<name>" for claims approved through the
	// claims parameter.
	Scopes []string
	Expiry time.Time
}

// ConsentStore remembers approvals.
type ConsentStore interface {
	// Consent returns the approval of subject for clientID, or ErrNotFound
	// if none or expired.
	Consent(ctx context.Context, subject, clientID string) (Consent, error)
	// PutConsent stores c, replacing any earlier approval of the same
	// subject and client.
	PutConsent(ctx context.Context, c Consent) error
}

// LoginAttempts counts login attempts in fixed windows, for throttling
// password guessing (RFC 9700 §4.9 is silent on it; every demanding
// deployment needs it). Keys are opaque to the store. The throttle reserves
// an attempt on each of its counters BEFORE it checks a password and
// decides by the counts the reservations return, never by a separate read:
// that is what holds the limit when guesses arrive in parallel, at any
// number of containers at once.
type LoginAttempts interface {
	// ReserveLogin adds one attempt to key's open window, or opens a window
	// ending at windowEnd with a count of 1 when none is open (a window is
	// open until its end, by the store's clock; a later windowEnd never
	// extends it). It returns the count after its own add and the end of the
	// window it counted in. It MUST be one atomic increment: of N concurrent
	// calls on a key in one window, each returns a different count, 1 to N,
	// and none is lost.
	ReserveLogin(ctx context.Context, key string, windowEnd time.Time) (count int, end time.Time, err error)
	// ReleaseLogin gives back one attempt that ReserveLogin counted in the
	// window ending at end (as ReserveLogin returned it): one atomic
	// decrement of that window's count, never below zero. It MUST do nothing
	// when that window is no longer the key's (a new window counts only its
	// own attempts). Releasing an unknown key is not an error.
	ReleaseLogin(ctx context.Context, key string, end time.Time) error
}
