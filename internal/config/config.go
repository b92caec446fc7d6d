// Package config reads the provider's YAML configuration, a subset of Dex's
// format so that a Dex user's config loads unchanged for what is supported,
// and the deployment settings that Lambda functions take from environment
// variables. It is the single list of those variable names; template.yaml
// and the CDK app use the same names (tests check that they agree).
package config

import "time"

// Config is the whole configuration file. YAML keys are Dex's where Dex has
// the concept; settings Dex has no concept for live under Extensions
// ("extensions:" in YAML) or as documented extra fields of Dex's structures.
type Config struct {
	Issuer           string     `yaml:"issuer"`
	Web              Web        `yaml:"web"`
	Storage          Storage    `yaml:"storage"`
	Signer           Signer     `yaml:"signer"`
	EnablePasswordDB bool       `yaml:"enablePasswordDB"`
	StaticPasswords  []Password `yaml:"staticPasswords"`
	StaticClients    []Client   `yaml:"staticClients"`
	OAuth2           OAuth2     `yaml:"oauth2"`
	Expiry           Expiry     `yaml:"expiry"`
	Logger           Logger     `yaml:"logger"`
	Extensions       Extensions `yaml:"extensions"`
}

// Web configures the local listener and browser access.
type Web struct {
	HTTP           string   `yaml:"http"`           // local listen address, e.g. 127.0.0.1:5556
	AllowedOrigins []string `yaml:"allowedOrigins"` // CORS origins for back-channel endpoints; "*" for any
}

// Storage selects the store: type "memory" (default) or "dynamodb".
type Storage struct {
	Type     string          `yaml:"type"`
	DynamoDB DynamoDBStorage `yaml:"-"` // decoded from "config" when Type is dynamodb
}

// DynamoDBStorage is storage.config for type dynamodb.
type DynamoDBStorage struct {
	Table       string `yaml:"table"`
	Region      string `yaml:"region"`
	Endpoint    string `yaml:"endpoint"`    // optional, for DynamoDB Local
	CreateTable bool   `yaml:"createTable"` // local use only
}

// Signer selects the signing keys: type "local" (default) or "kms".
type Signer struct {
	Type  string      `yaml:"type"`
	Local LocalSigner `yaml:"-"` // decoded from "config" when Type is local
	KMS   KMSSigner   `yaml:"-"` // decoded from "config" when Type is kms
}

// LocalSigner is signer.config for type local.
type LocalSigner struct {
	Algorithm string `yaml:"algorithm"` // RS256 (default) or ES256
	KeyFile   string `yaml:"keyFile"`   // optional PEM private key; generated at start when empty
}

// KMSSigner is signer.config for type kms.
type KMSSigner struct {
	Keys []string `yaml:"keys"` // key ids, ARNs or aliases; the first signs, the rest verify only
	// Algorithm of the keys, RS256 (default: RSA_2048/3072/4096 keys) or
	// ES256 (ECC_NIST_P256). Discovery advertises it without calling KMS.
	Algorithm string `yaml:"algorithm"`
	Region    string `yaml:"region"`
	Endpoint  string `yaml:"endpoint"` // optional, for moto
}

// Password is a user of the static password database. Groups, Name and
// EmailVerified are extensions of Dex's format.
type Password struct {
	Email         string   `yaml:"email"`
	Hash          string   `yaml:"hash"` // bcrypt
	HashFromEnv   string   `yaml:"hashFromEnv"`
	Username      string   `yaml:"username"`
	UserID        string   `yaml:"userID"`
	Groups        []string `yaml:"groups"`
	Name          string   `yaml:"name"`
	EmailVerified *bool    `yaml:"emailVerified"` // default true, as Dex asserts for its password DB

	// Standard claims (OpenID Connect Core §5.1), released by the profile,
	// address and phone scopes or the claims parameter. All optional.
	GivenName           string   `yaml:"givenName"`
	FamilyName          string   `yaml:"familyName"`
	MiddleName          string   `yaml:"middleName"`
	Nickname            string   `yaml:"nickname"`
	Profile             string   `yaml:"profile"`
	Picture             string   `yaml:"picture"`
	Website             string   `yaml:"website"`
	Gender              string   `yaml:"gender"`
	Birthdate           string   `yaml:"birthdate"`
	Zoneinfo            string   `yaml:"zoneinfo"`
	Locale              string   `yaml:"locale"`
	PhoneNumber         string   `yaml:"phoneNumber"`
	PhoneNumberVerified bool     `yaml:"phoneNumberVerified"`
	Address             *Address `yaml:"address"`
}

// Address is a postal address (OpenID Connect Core §5.1.1).
type Address struct {
	Formatted     string `yaml:"formatted"`
	StreetAddress string `yaml:"streetAddress"`
	Locality      string `yaml:"locality"`
	Region        string `yaml:"region"`
	PostalCode    string `yaml:"postalCode"`
	Country       string `yaml:"country"`
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
}

// OAuth2 holds Dex's oauth2 settings.
type OAuth2 struct {
	ResponseTypes      []string `yaml:"responseTypes"` // parts: code, token, id_token; default [code]
	GrantTypes         []string `yaml:"grantTypes"`    // authorization_code, refresh_token; default both
	SkipApprovalScreen bool     `yaml:"skipApprovalScreen"`
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
	ValidIfNotUsedFor time.Duration `yaml:"validIfNotUsedFor"` // also accepted as validForIfNotUsed
	AbsoluteLifetime  time.Duration `yaml:"absoluteLifetime"`
	ReuseInterval     time.Duration `yaml:"reuseInterval"`
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
	Sessions Sessions `yaml:"sessions"`
	// LoginThrottle limits password guessing; zero values take the
	// provider's defaults (15m window; 5 per account and address, 50 per
	// address, 100 per account).
	LoginThrottle LoginThrottle `yaml:"loginThrottle"`
	// TokenEndpointAtHash puts at_hash in ID tokens from the token endpoint
	// (default true). false lets the ID and access tokens be signed
	// concurrently: one KMS round trip of latency instead of two.
	TokenEndpointAtHash *bool `yaml:"tokenEndpointAtHash"`
}

// LoginThrottle limits failed password attempts per window.
type LoginThrottle struct {
	Window          time.Duration `yaml:"window"`
	PerAccountAndIP int           `yaml:"perAccountAndIP"`
	PerIP           int           `yaml:"perIP"`
	PerAccount      int           `yaml:"perAccount"`
}

// Sessions configures the browser's single sign-on session.
type Sessions struct {
	IdleTimeout      time.Duration `yaml:"idleTimeout"`      // a session unused this long ends; default 24h
	AbsoluteLifetime time.Duration `yaml:"absoluteLifetime"` // a session ends this long after login; default 168h
	RememberConsent  time.Duration `yaml:"rememberConsent"`  // approvals are remembered this long; default 2160h
}
