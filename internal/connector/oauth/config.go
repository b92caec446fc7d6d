package oauth

import (
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
)

// Config is connectors[].config for type oauth: Dex's keys.
type Config struct {
	ClientID     string `yaml:"clientID" config:"expand"`
	ClientSecret string `yaml:"clientSecret" config:"expand"`
	// RedirectURI is registered upstream; default the provider's
	// callback URL.
	RedirectURI      string   `yaml:"redirectURI" config:"expand"`
	TokenURL         string   `yaml:"tokenURL" config:"expand"`
	AuthorizationURL string   `yaml:"authorizationURL" config:"expand"`
	UserInfoURL      string   `yaml:"userInfoURL" config:"expand"`
	Scopes           []string `yaml:"scopes" config:"expand"`
	// RootCAs are PEM files (or base64 of PEM, as Dex accepts) of roots
	// trusted besides the system's.
	RootCAs []string `yaml:"rootCAs" config:"expand"`
	// InsecureSkipVerify is accepted only as false: this provider never
	// turns off TLS verification (trust a private CA with rootCAs).
	InsecureSkipVerify bool `yaml:"insecureSkipVerify"`
	// InsecureSkipEmailVerified takes every email as verified, for
	// upstreams that do not say (Dex's key).
	InsecureSkipEmailVerified bool `yaml:"insecureSkipEmailVerified"`
	// UserIDKey names the userinfo member that is the user's stable id
	// (default id).
	UserIDKey    string       `yaml:"userIDKey" config:"expand"`
	ClaimMapping ClaimMapping `yaml:"claimMapping"`
}

// ClaimMapping names the userinfo members of the identity's parts.
type ClaimMapping struct {
	UserNameKey          string `yaml:"userNameKey" config:"expand"`          // default user_name
	PreferredUsernameKey string `yaml:"preferredUsernameKey" config:"expand"` // default preferred_username
	GroupsKey            string `yaml:"groupsKey" config:"expand"`            // default groups
	EmailKey             string `yaml:"emailKey" config:"expand"`             // default email
	EmailVerifiedKey     string `yaml:"emailVerifiedKey" config:"expand"`     // default email_verified
}

var _ config.Validator = Config{}

// Validate implements config.Validator. The upstream's endpoints must be
// https, or http on a loopback address for local use
// (connector.CheckURL).
func (c Config) Validate(report func(key, msg string)) {
	for _, f := range []struct{ key, val string }{{"clientID", c.ClientID}, {"clientSecret", c.ClientSecret}} {
		if f.val == "" {
			report(f.key, "required for connector type oauth")
		}
	}
	connector.CheckURL(report, "tokenURL", c.TokenURL, true)
	connector.CheckURL(report, "authorizationURL", c.AuthorizationURL, true)
	connector.CheckURL(report, "userInfoURL", c.UserInfoURL, true)
	connector.CheckURL(report, "redirectURI", c.RedirectURI, false)
	if c.InsecureSkipVerify {
		report("insecureSkipVerify", "insecure TLS is not supported: trust the server's certificate authority with rootCAs instead")
	}
}
