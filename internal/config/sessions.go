package config

import (
	"fmt"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Sessions is Dex's sessions section. Its lifetimes are the ones
// extensions.sessions sets (give each in one place only); its
// ssoSharedWithDefault decides whom the single sign-on session of a client
// without staticClients[].ssoSharedWith may answer. Dex's cookieName,
// rememberMeCheckedByDefault and cookieEncryptionKey load with a warning
// (see ignored). Dex reads the section only with its DEX_SESSIONS_ENABLED
// feature flag; this provider always has sessions and reads it always.
type Sessions struct {
	// AbsoluteLifetime: a session ends this long after the login
	// (extensions.sessions.absoluteLifetime); default 168h.
	AbsoluteLifetime time.Duration `yaml:"absoluteLifetime"`
	// ValidIfNotUsedFor: a session unused this long ends
	// (extensions.sessions.idleTimeout); default 24h.
	ValidIfNotUsedFor time.Duration `yaml:"validIfNotUsedFor"`
	// SSOSharedWithDefault is all or none (the default when the section
	// is present).
	SSOSharedWithDefault string `yaml:"ssoSharedWithDefault"`
}

// SSOSharedWithDefault is whom the session of a client without
// ssoSharedWith may answer: sessions.ssoSharedWithDefault; none when the
// section has no such key, as in Dex; all when there is no sessions
// section, this provider's behaviour before the setting existed.
func (c *Config) SSOSharedWithDefault() string {
	if c.Sessions == nil {
		return oidc.SSOShareAll
	}
	if c.Sessions.SSOSharedWithDefault == "" {
		return oidc.SSOShareNone
	}
	return c.Sessions.SSOSharedWithDefault
}

// resolveSessions copies Dex's session lifetimes into extensions.sessions,
// which the provider reads, refusing a lifetime set in both places. A
// sessions key without a value counts as an empty section (sharing none).
func (d *decoder) resolveSessions(c *Config) {
	if _, present := d.pos["sessions"]; present && c.Sessions == nil {
		c.Sessions = new(Sessions)
	}
	if c.Sessions == nil {
		return
	}
	for _, s := range []struct {
		dex, ext string
		from     time.Duration
		to       *time.Duration
	}{
		{"sessions.absoluteLifetime", "extensions.sessions.absoluteLifetime", c.Sessions.AbsoluteLifetime, &c.Extensions.Sessions.AbsoluteLifetime},
		{"sessions.validIfNotUsedFor", "extensions.sessions.idleTimeout", c.Sessions.ValidIfNotUsedFor, &c.Extensions.Sessions.IdleTimeout},
	} {
		if !d.set[s.dex] {
			continue
		}
		if d.set[s.ext] {
			d.errorf(s.dex, "set %s or %s, not both (they are one setting)", s.dex, s.ext)
			continue
		}
		*s.to = s.from
	}
}

// validateSessions checks sessions.ssoSharedWithDefault and every
// staticClients[].ssoSharedWith entry: "*" or the id of a static client.
func (v validator) validateSessions(c *Config) {
	if s := c.Sessions; s != nil && s.SSOSharedWithDefault != "" &&
		s.SSOSharedWithDefault != oidc.SSOShareAll && s.SSOSharedWithDefault != oidc.SSOShareNone {
		v.fail("sessions.ssoSharedWithDefault", "%q must be %s or %s", s.SSOSharedWithDefault, oidc.SSOShareAll, oidc.SSOShareNone)
	}
	ids := map[string]bool{}
	for _, cl := range c.StaticClients {
		ids[cl.ID] = true
	}
	for i, cl := range c.StaticClients {
		if cl.SSOSharedWith == nil {
			continue
		}
		for j, id := range *cl.SSOSharedWith {
			if id != "*" && !ids[id] {
				// Dex's clients may also come from its API or storage, so
				// Dex's own reference names clients it does not define:
				// load, and say it shares with no one here.
				v.d.warn(fmt.Sprintf("staticClients[%d].ssoSharedWith[%d]", i, j),
					fmt.Sprintf("has no effect (%q is not the id of a static client; clients come only from this file)", id))
			}
		}
	}
}
