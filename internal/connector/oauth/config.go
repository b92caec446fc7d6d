package oauth

import (
	"fmt"
	"net"
	"net/url"

	"github.com/serverless-oidc/op/internal/config"
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
	// RootCAs are PEM files of roots trusted besides the system's.
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
// https (RFC 6749 §3.1, §3.2: TLS is required), or http on a loopback
// address for local use.
func (c Config) Validate(report func(key, msg string)) {
	for _, f := range []struct{ key, val string }{{"clientID", c.ClientID}, {"clientSecret", c.ClientSecret},
		{"tokenURL", c.TokenURL}, {"authorizationURL", c.AuthorizationURL}, {"userInfoURL", c.UserInfoURL}} {
		if f.val == "" {
			report(f.key, "required for connector type oauth")
		}
	}
	for _, f := range []struct{ key, val string }{{"tokenURL", c.TokenURL}, {"authorizationURL", c.AuthorizationURL}, {"userInfoURL", c.UserInfoURL}} {
		if f.val != "" && !secureURL(f.val) {
			report(f.key, fmt.Sprintf("%q is not an https URL (http only on a loopback address), without a fragment", f.val))
		}
	}
	if c.RedirectURI != "" {
		if u, err := url.Parse(c.RedirectURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
			report("redirectURI", fmt.Sprintf("%q is not an absolute http(s) URL without a fragment", c.RedirectURI))
		}
	}
	if c.InsecureSkipVerify {
		report("insecureSkipVerify", "insecure TLS is not supported: trust the server's certificate authority with rootCAs instead")
	}
}

// secureURL reports whether raw is an https URL, or an http one on a
// loopback address, with a host and no fragment.
func secureURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		if u.Hostname() == "localhost" {
			return true
		}
		ip := net.ParseIP(u.Hostname())
		return ip != nil && ip.IsLoopback()
	}
	return false
}
