package github

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
)

// Config is connectors[].config for type github: Dex's keys.
type Config struct {
	ClientID     string `yaml:"clientID" config:"expand"`
	ClientSecret string `yaml:"clientSecret" config:"expand"`
	// RedirectURI is registered at GitHub; default the provider's
	// callback URL.
	RedirectURI string `yaml:"redirectURI" config:"expand"`
	// Orgs: a user must be a member of one of them (and of one of its
	// teams, when teams are listed) to log in.
	Orgs []Org `yaml:"orgs"`
	// Org is Dex's deprecated single organization: members only; its
	// teams are the groups, without the org prefix (as in Dex).
	Org string `yaml:"org" config:"expand"`
	// LoadAllGroups makes every org and team of the user a group when
	// neither orgs nor org is set and the client asks for groups.
	LoadAllGroups bool `yaml:"loadAllGroups"`
	// TeamNameField is name (default), slug or both.
	TeamNameField string `yaml:"teamNameField"`
	// UseLoginAsID makes the login the user id (and so the subject)
	// instead of GitHub's numeric id, which, unlike a login, never changes.
	UseLoginAsID bool `yaml:"useLoginAsID"`
	// PreferredEmailDomain picks the first verified email in this domain
	// ("*.example.com": its subdomains) over the primary one.
	PreferredEmailDomain string `yaml:"preferredEmailDomain" config:"expand"`
	// HostName is a GitHub Enterprise Server host (host or host:port).
	HostName string `yaml:"hostName" config:"expand"`
	// RootCA is a PEM file (or base64 of PEM) of roots trusted for
	// HostName, besides the system's.
	RootCA string `yaml:"rootCA" config:"expand"`
}

// Org is one entry of orgs: an organization and, optionally, the teams
// whose members may log in.
type Org struct {
	Name  string   `yaml:"name" config:"expand"`
	Teams []string `yaml:"teams" config:"expand"`
}

var _ config.Validator = Config{}

// Validate implements config.Validator.
func (c Config) Validate(report func(key, msg string)) {
	if c.ClientID == "" {
		report("clientID", "required for connector type github")
	}
	if c.ClientSecret == "" {
		report("clientSecret", "required for connector type github")
	}
	connector.CheckURL(report, "redirectURI", c.RedirectURI, false)
	if c.Org != "" && len(c.Orgs) > 0 {
		report("org", "org and orgs cannot both be set (org is Dex's deprecated form of orgs)")
	}
	for i, o := range c.Orgs {
		if o.Name == "" {
			report(fmt.Sprintf("orgs[%d].name", i), "required")
		}
	}
	switch c.TeamNameField {
	case "", "name", "slug", "both":
	default:
		report("teamNameField", fmt.Sprintf("%q is not name, slug or both", c.TeamNameField))
	}
	if c.HostName != "" && !validHost(c.HostName) {
		report("hostName", fmt.Sprintf("%q is not a host name (like github.example.com, without scheme or path)", c.HostName))
	}
	if c.RootCA != "" && c.HostName == "" {
		report("rootCA", "is for GitHub Enterprise: set hostName too")
	}
	if d := strings.TrimPrefix(c.PreferredEmailDomain, "*."); c.PreferredEmailDomain != "" && (d == "" || strings.ContainsAny(d, "@*/ ")) {
		report("preferredEmailDomain", fmt.Sprintf("%q is not a domain like example.com or *.example.com", c.PreferredEmailDomain))
	}
}

// validHost reports whether h is a host or host:port and nothing more.
func validHost(h string) bool {
	u, err := url.Parse("https://" + h)
	if err != nil || u.Host != h || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if _, _, err := net.SplitHostPort(h); err == nil {
		return u.Hostname() != ""
	}
	return !strings.Contains(h, ":")
}
