package openid

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
)

// Config is connectors[].config for type oidc: Dex's keys with Dex's
// meanings and defaults, so that a Dex configuration loads unchanged.
type Config struct {
	// Issuer is the upstream's issuer identifier, also the base of its
	// discovery document; it MUST equal the document's issuer.
	Issuer       string `yaml:"issuer" config:"expand"`
	ClientID     string `yaml:"clientID" config:"expand"`
	ClientSecret string `yaml:"clientSecret" config:"expand"`
	// RedirectURI is registered upstream; default: the provider's callback.
	RedirectURI string `yaml:"redirectURI" config:"expand"`

	ProviderDiscoveryOverrides DiscoveryOverrides `yaml:"providerDiscoveryOverrides"`
	// BasicAuthUnsupported sends the client secret in the token request
	// body (client_secret_post, RFC 6749 §2.3.1 "NOT RECOMMENDED") instead
	// of client_secret_basic. Unset: Dex's detection (Okta's hosts).
	BasicAuthUnsupported *bool `yaml:"basicAuthUnsupported"`
	// Scopes besides openid; default Dex's profile and email.
	Scopes []string `yaml:"scopes" config:"expand"`
	// HostedDomains: Google's hd, sent as a hint and checked in the ID
	// token; only users of these domains log in.
	HostedDomains []string `yaml:"hostedDomains" config:"expand"`
	// RootCAs are PEM files (or base64 of PEM, as Dex accepts) trusted for
	// the upstream's TLS, besides the system roots.
	RootCAs []string `yaml:"rootCAs" config:"expand"`

	InsecureSkipEmailVerified bool     `yaml:"insecureSkipEmailVerified"`
	InsecureEnableGroups      bool     `yaml:"insecureEnableGroups"`
	AllowedGroups             []string `yaml:"allowedGroups" config:"expand"`
	AcrValues                 []string `yaml:"acrValues" config:"expand"`
	// InsecureSkipVerify is Dex's; only false is accepted (see Validate).
	InsecureSkipVerify bool   `yaml:"insecureSkipVerify"`
	GetUserInfo        bool   `yaml:"getUserInfo"`
	UserIDKey          string `yaml:"userIDKey" config:"expand"`
	UserNameKey        string `yaml:"userNameKey" config:"expand"`
	// PreferredUsernameKey, EmailKey and GroupsKey are the claimMapping
	// keys spelled at the top level (as Dex's oauth connector does); set
	// each in one place only.
	PreferredUsernameKey string `yaml:"preferredUsernameKey" config:"expand"`
	EmailKey             string `yaml:"emailKey" config:"expand"`
	GroupsKey            string `yaml:"groupsKey" config:"expand"`
	// PromptType is sent as prompt with offline access; nil: consent
	// (Dex); "": no prompt parameter.
	PromptType *string `yaml:"promptType" config:"expand"`
	// PKCEChallenge is Dex's: S256 always uses PKCE; empty uses S256 when
	// the upstream advertises it. plain is refused (RFC 9700 §2.1.1).
	PKCEChallenge        string             `yaml:"pkceChallenge" config:"expand"`
	OverrideClaimMapping bool               `yaml:"overrideClaimMapping"`
	ClaimMapping         ClaimMapping       `yaml:"claimMapping"`
	ClaimModifications   ClaimModifications `yaml:"claimModifications"`
	// IssuerAlias is Dex's (token exchange); refused, see Validate.
	IssuerAlias string `yaml:"issuerAlias"`
}

// DiscoveryOverrides replace endpoints of the upstream's discovery
// document (Dex warns that a wrong one is a vulnerability; so do we).
type DiscoveryOverrides struct {
	TokenURL string `yaml:"tokenURL" config:"expand"`
	AuthURL  string `yaml:"authURL" config:"expand"`
	JWKSURL  string `yaml:"jwksURL" config:"expand"`
}

func (o DiscoveryOverrides) empty() bool { return o == DiscoveryOverrides{} }

// ClaimMapping names the claims read when the standard one is absent (or
// always, with overrideClaimMapping).
type ClaimMapping struct {
	PreferredUsernameKey string `yaml:"preferred_username" config:"expand"`
	EmailKey             string `yaml:"email" config:"expand"`
	GroupsKey            string `yaml:"groups" config:"expand"`
}

// ClaimModifications are Dex's claimModifications.
type ClaimModifications struct {
	NewGroupFromClaims []NewGroupFromClaims `yaml:"newGroupFromClaims"`
	FilterGroupClaims  FilterGroupClaims    `yaml:"filterGroupClaims"`
	ModifyGroupNames   ModifyGroupNames     `yaml:"modifyGroupNames"`
}

// NewGroupFromClaims adds a group joining prefix and the string claims
// named, with delimiter.
type NewGroupFromClaims struct {
	Claims         []string `yaml:"claims" config:"expand"`
	Delimiter      string   `yaml:"delimiter" config:"expand"`
	ClearDelimiter bool     `yaml:"clearDelimiter"`
	Prefix         string   `yaml:"prefix" config:"expand"`
}

// FilterGroupClaims keeps the upstream's groups that match an RE2 regexp.
type FilterGroupClaims struct {
	GroupsFilter string `yaml:"groupsFilter" config:"expand"`
}

// ModifyGroupNames wraps every upstream group name.
type ModifyGroupNames struct {
	Prefix string `yaml:"prefix" config:"expand"`
	Suffix string `yaml:"suffix" config:"expand"`
}

var _ config.Validator = Config{}

// Validate implements config.Validator.
func (c Config) Validate(report func(key, msg string)) {
	connector.CheckURL(report, "issuer", c.Issuer, true)
	if u, err := url.Parse(c.Issuer); err == nil && (u.RawQuery != "" || u.ForceQuery) {
		report("issuer", fmt.Sprintf("%q must not have a query (OpenID Connect Discovery §4)", c.Issuer))
	}
	if c.ClientID == "" {
		report("clientID", "required: the client id registered at the upstream")
	}
	connector.CheckURL(report, "redirectURI", c.RedirectURI, false)
	o := c.ProviderDiscoveryOverrides
	connector.CheckURL(report, "providerDiscoveryOverrides.tokenURL", o.TokenURL, false)
	connector.CheckURL(report, "providerDiscoveryOverrides.authURL", o.AuthURL, false)
	connector.CheckURL(report, "providerDiscoveryOverrides.jwksURL", o.JWKSURL, false)
	if c.InsecureSkipVerify {
		report("insecureSkipVerify", "not supported: the upstream's TLS certificate is always verified (trust a private CA with rootCAs)")
	}
	if c.IssuerAlias != "" {
		report("issuerAlias", "not supported by this provider (it serves Dex's token exchange, which this provider does not implement)")
	}
	switch c.PKCEChallenge {
	case "", "S256":
	case "plain":
		report("pkceChallenge", "plain is refused: it does not protect the code (RFC 9700 §2.1.1); use S256 or remove the key")
	default:
		report("pkceChallenge", fmt.Sprintf("%q is not a PKCE method: S256, or remove the key to use S256 when the upstream offers it", c.PKCEChallenge))
	}
	for _, dup := range []struct{ top, mapped, key string }{
		{c.PreferredUsernameKey, c.ClaimMapping.PreferredUsernameKey, "preferredUsernameKey"},
		{c.EmailKey, c.ClaimMapping.EmailKey, "emailKey"},
		{c.GroupsKey, c.ClaimMapping.GroupsKey, "groupsKey"},
	} {
		if dup.top != "" && dup.mapped != "" {
			report(dup.key, "is also set in claimMapping: set it in one place")
		}
	}
	if f := c.ClaimModifications.FilterGroupClaims.GroupsFilter; f != "" {
		if _, err := regexp.Compile(f); err != nil {
			report("claimModifications.filterGroupClaims.groupsFilter", "not an RE2 regular expression: "+err.Error())
		}
	}
	for i, g := range c.ClaimModifications.NewGroupFromClaims {
		if len(g.Claims) == 0 {
			report(fmt.Sprintf("claimModifications.newGroupFromClaims[%d].claims", i), "required: the claims to join")
		}
	}
	for i, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") {
			report(fmt.Sprintf("scopes[%d]", i), fmt.Sprintf("%q is not a scope", s))
		}
	}
}

// brokenBasicAuth are Dex's hosts that refuse client_secret_basic.
var brokenBasicAuth = []string{"okta.com", "oktapreview.com"}

// basicAuthUnsupported is basicAuthUnsupported, or Dex's guess from the
// issuer's host when unset.
func (c Config) basicAuthUnsupported() bool {
	if c.BasicAuthUnsupported != nil {
		return *c.BasicAuthUnsupported
	}
	u, err := url.Parse(c.Issuer)
	if err != nil {
		return false
	}
	host := u.Hostname()
	return slices.ContainsFunc(brokenBasicAuth, func(d string) bool { return host == d || strings.HasSuffix(host, "."+d) })
}
