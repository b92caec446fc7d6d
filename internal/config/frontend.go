package config

import (
	"fmt"
	"net/url"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Frontend is Dex's frontend section: how the built-in pages look
// (oidc.Frontend). Dex's dir (static files and HTML templates) loads with
// a warning: it is not served yet, and Dex's templates are never used.
type Frontend struct {
	// Issuer is the name shown in every page's title and above its
	// heading; empty (the default) shows none. Dex's default is "dex".
	Issuer string `yaml:"issuer"`
	// LogoURL is an https URL of the logo shown on every page.
	LogoURL string `yaml:"logoURL"`
	// Theme is light (the default) or dark.
	Theme string `yaml:"theme"`
	// Extra are strings available to the page layout as .Extra; the
	// built-in pages use none.
	Extra map[string]string `yaml:"extra"`
}

// validateFrontend checks the frontend section and the clients' logos.
func (v validator) validateFrontend(c *Config) {
	switch t := c.Frontend.Theme; t {
	case "", oidc.ThemeLight, oidc.ThemeDark:
	default:
		v.fail("frontend.theme", "%q: must be %s or %s", t, oidc.ThemeLight, oidc.ThemeDark)
	}
	v.checkLogo("frontend.logoURL", c.Frontend.LogoURL)
	for i, cl := range c.StaticClients {
		v.checkLogo(fmt.Sprintf("staticClients[%d].logoURL", i), cl.LogoURL)
	}
}

// checkLogo checks a logo URL at path p: an https URL (oidc.CheckLogoURL),
// since the pages' CSP allows images from its origin. A relative path,
// which Dex resolves under frontend.dir, loads with a warning and is not
// shown: a missing logo changes nothing else.
func (v validator) checkLogo(p, s string) {
	if s == "" {
		return
	}
	if u, err := url.Parse(s); err == nil && u.Scheme == "" && u.Host == "" {
		v.d.warn(p, fmt.Sprintf("%q: has no effect (a path under frontend.dir is not served yet; give an https URL)", s))
		return
	}
	if err := oidc.CheckLogoURL(s); err != nil {
		v.fail(p, "%q: must be an https URL with a host name, such as https://cdn.example.com/logo.png (the pages' Content-Security-Policy allows images from its origin)", s)
	}
}
