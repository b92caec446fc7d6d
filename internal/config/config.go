// Package config reads the provider's YAML configuration, a subset of Dex's
// format so that a Dex user's config loads unchanged for what is supported,
// and the deployment settings that Lambda functions take from environment
// variables. It is the single list of those variable names; template.yaml
// and the CDK app use the same names (tests check that they agree).
//
// The file is decoded strictly into the tagged structs below (decode.go
// says how tags drive the keys). The config blocks of storage and signer
// are kept as Sections: each backend decodes its own, with the same
// strictness and error format (see internal/backend).
package config

import (
	"slices"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Config is the whole configuration file. YAML keys are Dex's where Dex has
// the concept; settings Dex has no concept for live under Extensions
// ("extensions:" in YAML) or as documented extra fields of Dex's structures.
type Config struct {
	Issuer           string     `yaml:"issuer" config:"expand"`
	Web              Web        `yaml:"web"`
	Storage          Backend    `yaml:"storage"` // type memory (default) or a storage backend's name
	Signer           Backend    `yaml:"signer"`  // type local (default) or a signer backend's name
	EnablePasswordDB bool       `yaml:"enablePasswordDB"`
	StaticPasswords  []Password `yaml:"staticPasswords"`
	StaticClients    []Client   `yaml:"staticClients"`
	OAuth2           OAuth2     `yaml:"oauth2"`
	Expiry           Expiry     `yaml:"expiry"`
	Logger           Logger     `yaml:"logger"`
	Extensions       Extensions `yaml:"extensions"`
	Frontend         Frontend   `yaml:"frontend"`
	// Sessions is Dex's sessions section (sessions.go); nil when absent,
	// and then every client shares its single sign-on session with all.
	Sessions *Sessions `yaml:"sessions"`

	// Connectors is Dex's list of upstream identity providers, in login
	// page order (connector.go). The password database is not listed:
	// enablePasswordDB adds it, as Dex does, with the id local.
	Connectors []Connector `yaml:"connectors"`

	// ResourceServers are the APIs access tokens may be issued for
	// (RFC 8707 resource indicators; resourceservers.go). Ours: Dex has
	// no such key.
	ResourceServers []ResourceServer `yaml:"resourceServers"`

	// Warnings are set by Parse: the keys that loaded but have no effect
	// in this deployment, each with its line and why, in file order.
	Warnings []Warning `yaml:"-"`

	// OriginVerify is OIDC_ORIGIN_VERIFY: when set, the value every
	// request must carry in OriginVerifyHeader, or a
	// secretsmanager:<id>[#<json key>] reference to it (resolved by the
	// Lambda composition, internal/app). Only the environment sets it.
	OriginVerify string `yaml:"-"`

	algorithm string // signer.config.algorithm; see SigningAlgorithm
}

// SigningAlgorithm is signer.config.algorithm, the JWS algorithm of the
// signer's keys (one of oidc.SigningAlgorithms; default RS256). It is the
// one key of a backend's section this package reads itself, so that
// discovery can advertise it without the signer.
func (c *Config) SigningAlgorithm() string {
	if c.algorithm == "" {
		return defaultAlgorithm
	}
	return c.algorithm
}

// idTokenAlg is the algorithm the client's ID tokens are signed with
// when it names one, or ES256 under the FAPI 2.0 profile, which allows no
// RS256 (oidc.FAPI2SigningAlgorithms); "" for the provider's default.
func (cl Client) idTokenAlg(global string) string {
	fapi := cl.Profile == oidc.ProfileFAPI2 || (cl.Profile == "" && global == oidc.ProfileFAPI2)
	if fapi && !slices.Contains(oidc.FAPI2SigningAlgorithms, cl.IDTokenSigningAlg) {
		return oidc.ES256
	}
	return cl.IDTokenSigningAlg
}

// Web configures the local listener and browser access.
type Web struct {
	HTTP           string   `yaml:"http" config:"expand"` // local listen address, e.g. 127.0.0.1:5556
	AllowedOrigins []string `yaml:"allowedOrigins"`       // CORS origins for back-channel endpoints; "*" for any
	// ClientRemoteIP is Dex's web.clientRemoteIP: where the client address
	// comes from when a CDN or proxy stands in front.
	ClientRemoteIP ClientRemoteIP `yaml:"clientRemoteIP"`
}

// ClientRemoteIP names the one header that carries the client's address,
// for the login throttle. Empty (the default): the peer address (API
// Gateway's sourceIp), which behind CloudFront is CloudFront's. Set it to
// CloudFront-Viewer-Address behind CloudFront. Forwarding headers that any
// client can write (X-Forwarded-For, Forwarded, X-Real-IP) are refused:
// this provider trusts no proxy chain (Dex's trustedProxies is not
// supported).
type ClientRemoteIP struct {
	Header string `yaml:"header"`
}

// Password is a user of the static password database: the user's own keys
// (oidc.User's yaml tags: userID, email, username, name, groups and the
// standard claims), the bcrypt hash and whether the email is verified.
// Groups, Name, EmailVerified and the standard claims are extensions of
// Dex's format.
type Password struct {
	oidc.User   `yaml:",inline"`
	Hash        string `yaml:"hash"` // bcrypt; never expanded (it contains $)
	HashFromEnv string `yaml:"hashFromEnv"`
	// EmailVerified defaults to true, as Dex asserts for its password DB.
	EmailVerified *bool `yaml:"emailVerified"`
}

// OIDCUser returns the user the entry describes, with its password hash
// and EmailVerified true unless the entry says false.
func (p Password) OIDCUser() oidc.User {
	u := p.User
	u.PasswordHash = []byte(p.Hash)
	u.EmailVerified = p.EmailVerified == nil || *p.EmailVerified
	return u
}

// Client is a statically registered relying party. AllowedOrigins and
// PostLogoutRedirectURIs are extensions of Dex's format.
type Client struct {
	ID                     string   `yaml:"id"`
	IDEnv                  string   `yaml:"idEnv"`
	Secret                 string   `yaml:"secret"`
	SecretEnv              string   `yaml:"secretEnv"`
	Name                   string   `yaml:"name"`
	RedirectURIs           []string `yaml:"redirectURIs"`
	Public                 bool     `yaml:"public"`
	TrustedPeers           []string `yaml:"trustedPeers"`
	AllowedOrigins         []string `yaml:"allowedOrigins"`
	PostLogoutRedirectURIs []string `yaml:"postLogoutRedirectURIs"`
	LogoURL                string   `yaml:"logoURL"` // an https URL, shown on the approval page

	// GrantTypes are the grants the client may use, within
	// oauth2.grantTypes (absent: all of those but password, which a client
	// gets only by listing it). An extension of Dex's format.
	GrantTypes []string `yaml:"grantTypes"`
	// AllowedConnectors are Dex's: the ids of the connectors the client's
	// users may log in with (absent: all); local is the password database.
	AllowedConnectors []string `yaml:"allowedConnectors"`
	// AllowedScopes are the scopes the client may ask for itself with the
	// client credentials grant (absent: none; a request without scope gets
	// them all); never openid nor a scope about users. Ours.
	AllowedScopes []string `yaml:"allowedScopes"`
	// AllowedAudiences are the audiences (absolute URIs, RFC 8707) its
	// client credentials and token exchange access tokens may be issued
	// for, by the resource or audience parameter. Ours.
	AllowedAudiences []string `yaml:"allowedAudiences"`
	// SSOSharedWith is Dex's: the other static clients (ids, or "*" for
	// all) whose authorization requests a single sign-on session started by
	// a login for this client may answer; [] none. nil (absent): the
	// default, sessions.ssoSharedWithDefault.
	SSOSharedWith *[]string `yaml:"ssoSharedWith"`
	// IDTokenSigningAlg is the JWS algorithm of the client's ID tokens,
	// RS256, PS256 or ES256 (absent: signer.config.algorithm), as OpenID
	// Connect Dynamic Client Registration's id_token_signed_response_alg.
	// The signer must have a key of it. Ours.
	IDTokenSigningAlg string `yaml:"idTokenSigningAlg"`
	// UserInfoSigningAlg, when set, makes the userinfo endpoint answer
	// this client with a JWT signed with it (application/jwt, OpenID
	// Connect Core §5.3.2), as userinfo_signed_response_alg; absent:
	// plain JSON. Ours.
	UserInfoSigningAlg string `yaml:"userInfoSigningAlg"`
	// RefreshIDToken false leaves the ID token out of refresh responses
	// (OpenID Connect Core §12.2 allows it); absent: true. Ours.
	RefreshIDToken *bool `yaml:"refreshIDToken"`
	// RequireDPoP refuses the client's token requests without a DPoP
	// proof (RFC 9449 §5.2.1): its access tokens are always bound to its
	// key. Ours.
	RequireDPoP bool `yaml:"requireDPoP"`
	// BackchannelLogoutURI receives a logout token when a single sign-on
	// session the client signed in through ends (OpenID Connect
	// Back-Channel Logout 1.0): https, or http on a loopback host. Ours.
	BackchannelLogoutURI string `yaml:"backchannelLogoutURI"`
	// BackchannelLogoutSessionRequired is the registration metadata
	// backchannel_logout_session_required: logout and ID tokens always
	// carry sid, so it only records the client's need. Ours.
	BackchannelLogoutSessionRequired bool `yaml:"backchannelLogoutSessionRequired"`
	// JWKS (a JWK Set, as JSON text) or JWKSURI (https) holds the public
	// keys of a confidential client without a secret, which authenticates
	// with private_key_jwt (OpenID Connect Core §9, RFC 7523). Ours.
	JWKS    string `yaml:"jwks"`
	JWKSURI string `yaml:"jwksURI"`
	// TokenEndpointAuthMethod client_secret_jwt makes the client
	// authenticate with an HMAC of its secret (RFC 7523, OpenID Connect
	// Core §9) and never with the secret itself; the secret (at least 32
	// characters) is then kept in memory in the clear. Absent: the secret
	// methods, or private_key_jwt with jwks or jwksURI. Ours.
	TokenEndpointAuthMethod string `yaml:"tokenEndpointAuthMethod"`
	// RequestObjectSigningAlg is the one JWS algorithm of the client's
	// request objects (RFC 9101); none allows unsigned ones. Absent: any
	// its keys verify. Ours.
	RequestObjectSigningAlg string `yaml:"requestObjectSigningAlg"`
	// RequirePushedAuthorizationRequests refuses the client's
	// authorization requests unless pushed (RFC 9126). Ours.
	RequirePushedAuthorizationRequests bool `yaml:"requirePushedAuthorizationRequests"`
	// Profile holds this client to a security profile (fapi2) whatever
	// extensions.profile says. Ours.
	Profile string `yaml:"profile"`
}

// OAuth2 holds Dex's oauth2 settings.
type OAuth2 struct {
	ResponseTypes      []string `yaml:"responseTypes"` // parts: code, token, id_token; default [code]
	GrantTypes         []string `yaml:"grantTypes"`    // authorization_code, refresh_token, password, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange; default the first two (and password with passwordConnector, client_credentials and token exchange when a client lists them)
	SkipApprovalScreen bool     `yaml:"skipApprovalScreen"`
	// AlwaysShowLoginScreen is Dex's: show the choice of connectors even
	// when a client has one callback connector, which the browser is
	// otherwise sent straight to.
	AlwaysShowLoginScreen bool `yaml:"alwaysShowLoginScreen"`
	PKCE                  PKCE `yaml:"pkce"`

	// PasswordConnector is Dex's: the connector the password grant
	// (RFC 6749 §4.3) checks passwords with; only local, the password
	// database. Unset (the default), the grant is off. RFC 9700 §2.4 says
	// it MUST NOT be used; see docs/configuration.md.
	PasswordConnector string `yaml:"passwordConnector"`
}

// PKCE holds Dex's oauth2.pkce settings. Only S256 is ever offered:
// CodeChallengeMethodsSupported may list S256 and plain, and plain loads
// with a warning that it is never enabled (RFC 9700 §2.1.1).
type PKCE struct {
	// Enforce requires PKCE from every client, confidential ones too
	// (OAuth 2.1); public clients always need it.
	Enforce                       bool     `yaml:"enforce"`
	CodeChallengeMethodsSupported []string `yaml:"codeChallengeMethodsSupported"`
}

// Expiry holds Dex's expiry settings. Zero values are replaced by defaults.
type Expiry struct {
	IDTokens       time.Duration `yaml:"idTokens"`       // ID and access tokens; default 1h
	AuthRequests   time.Duration `yaml:"authRequests"`   // pending logins; default 30m (Dex: 24h)
	DeviceRequests time.Duration `yaml:"deviceRequests"` // default 5m
	RefreshTokens  RefreshTokens `yaml:"refreshTokens"`
}

// RefreshTokens holds Dex's refresh token expiry settings.
type RefreshTokens struct {
	ValidIfNotUsedFor time.Duration `yaml:"validIfNotUsedFor" config:"alias=validForIfNotUsed"` // Dex's docs spell it validForIfNotUsed
	AbsoluteLifetime  time.Duration `yaml:"absoluteLifetime"`
	ReuseInterval     time.Duration `yaml:"reuseInterval" config:"zero"` // 0s turns it off
	DisableRotation   bool          `yaml:"disableRotation"`
}

// Logger holds Dex's logger settings.
type Logger struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // text (default) or json
}

// Extensions holds settings Dex has no concept of.
type Extensions struct {
	// AuthCodes is how long an authorization code stays redeemable; default 1m
	// (RFC 6749 §4.1.2 recommends at most 10 minutes).
	AuthCodes time.Duration `yaml:"authCodes"`
	// Sessions configures single sign-on sessions and remembered consent.
	Sessions SessionExtensions `yaml:"sessions"`
	// LoginThrottle limits password guessing; zero values take the
	// provider's defaults (15m window; 5 per account and address, 50 per
	// address, 100 per account).
	LoginThrottle LoginThrottle `yaml:"loginThrottle"`
	// TokenEndpointAtHash puts at_hash in ID tokens from the token endpoint
	// (default true). false lets the ID and access tokens be signed
	// concurrently: one KMS round trip of latency instead of two.
	TokenEndpointAtHash *bool `yaml:"tokenEndpointAtHash"`
	// AllowInstanceState lets memory storage and a generated signing key
	// open in AWS Lambda (default false: there they refuse, since each
	// execution environment would have its own sessions, codes and key). For
	// demos and smoke tests of single functions only; it has no effect
	// outside Lambda.
	AllowInstanceState bool `yaml:"allowInstanceState"`
	// PlainSubjects makes a user's sub its id at the connector alone
	// (oidc.Settings.PlainSubjects), not Dex's encoding of that id with the
	// connector's id (the default, which keeps a Dex user's sub). Two
	// connectors' users with the same id are then one subject.
	PlainSubjects bool `yaml:"plainSubjects"`
	// WebFinger answers issuer discovery (OpenID Connect Discovery §2)
	// for the users of its domains.
	WebFinger WebFinger `yaml:"webfinger"`
	// Registration is dynamic client registration (RFC 7591, RFC 7592).
	Registration Registration `yaml:"registration"`
	// DPoP configures sender-constrained tokens (RFC 9449).
	DPoP DPoP `yaml:"dpop"`
	// AccessTokenSigningAlg is the JWS algorithm of access tokens;
	// absent: ES256 when the signer has an ES256 key (see
	// Config.AccessTokenSigningAlgorithm).
	AccessTokenSigningAlg string `yaml:"accessTokenSigningAlg"`
	// SigningAlgs are more algorithms offered for ID tokens and userinfo
	// responses (for clients that register one) besides those the config
	// names; the signer must have a key of each.
	SigningAlgs []string `yaml:"signingAlgs"`
	// PAR configures pushed authorization requests (RFC 9126).
	PAR PAR `yaml:"pushedAuthorizationRequests"`
	// AssertionTokenEndpointAudience accepts the token endpoint URL as the
	// aud of client assertions beside the issuer (default false: see
	// oidc.Settings.AssertionTokenEndpointAudience).
	AssertionTokenEndpointAudience bool `yaml:"assertionTokenEndpointAudience"`
	// Profile holds every client to a security profile: fapi2 (the FAPI
	// 2.0 Security Profile, docs/fapi.md); absent: none.
	Profile string `yaml:"profile"`
}

// PAR is extensions.pushedAuthorizationRequests. The endpoint itself is
// always on.
type PAR struct {
	// Required refuses every authorization request that was not pushed
	// (require_pushed_authorization_requests).
	Required bool `yaml:"required"`
	// Lifetime is how long a request_uri may be used; default 60s, at most 10m.
	Lifetime time.Duration `yaml:"lifetime"`
}

// DPoP is extensions.dpop. DPoP itself is always on: a client that sends
// a proof gets bound tokens.
type DPoP struct {
	// ProofWindow is how far a proof's iat may lie from now; default 60s.
	ProofWindow time.Duration `yaml:"proofWindow"`
	// RequireNonce makes every proof carry a server nonce (RFC 9449 §8);
	// it needs nonceSecret.
	RequireNonce bool `yaml:"requireNonce"`
	// NonceSecret (at least 32 characters; $VAR expands) keys the nonces,
	// the same in every function. Keep it out of the file: "$DPOP_NONCE_SECRET".
	NonceSecret string `yaml:"nonceSecret" config:"expand"`
	// NonceLifetime is how long a nonce is issued; one is accepted for
	// twice that. Default 5m.
	NonceLifetime time.Duration `yaml:"nonceLifetime"`
}

// WebFinger is extensions.webfinger.
type WebFinger struct {
	// Domains are the host names whose users' identifiers
	// (acct:alice@example.com, https://example.com/alice) this issuer
	// serves; any other identifier, and every one when empty, is 404.
	Domains []string `yaml:"domains"`
}

// KeyAllowInstanceState is the config key of Extensions.AllowInstanceState,
// named in the errors of the backends it unlocks.
const KeyAllowInstanceState = "extensions.allowInstanceState"

// LoginThrottle limits failed password attempts per window.
type LoginThrottle struct {
	Window          time.Duration `yaml:"window"`
	PerAccountAndIP int           `yaml:"perAccountAndIP"`
	PerIP           int           `yaml:"perIP"`
	PerAccount      int           `yaml:"perAccount"`
}

// SessionExtensions configures the browser's single sign-on session
// (extensions.sessions). Dex's sessions.absoluteLifetime and
// sessions.validIfNotUsedFor set the first two as well; Parse copies them
// here.
type SessionExtensions struct {
	IdleTimeout      time.Duration `yaml:"idleTimeout"`      // a session unused this long ends; default 24h
	AbsoluteLifetime time.Duration `yaml:"absoluteLifetime"` // a session ends this long after login; default 168h
	RememberConsent  time.Duration `yaml:"rememberConsent"`  // approvals are remembered this long; default 2160h
}
