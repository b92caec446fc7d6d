package config

import (
	"fmt"
	"net/url"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Frontend is Dex's frontend section: how the built-in pages look
// (oidc.Frontend). Dex's dir holds the static files (logo, images) the
// authorize function serves; Dex's HTML templates in it are never used.
type Frontend struct {
	// Dir is Dex's web directory: relative to the configuration file's
	// directory, or absolute. Its static/ and themes/<theme>/ files are
	// served under the issuer's /static/ and /theme/.
	Dir string `yaml:"dir"`
	// Files are Dir's files, read when the configuration is parsed (not
	// by FromEnvironmentFor for functions other than authorize), keyed by
	// issuer-relative path (oidc.Frontend.Files).
	Files map[string]oidc.StaticFile `yaml:"-"`
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
	if c.Frontend.Dir != "" && !v.d.skipFiles {
		v.readFrontendDir(&c.Frontend)
	}
	if !v.checkDirLogo(&c.Frontend) {
		v.checkLogo("frontend.logoURL", c.Frontend.LogoURL)
	}
	for i, cl := range c.StaticClients {
		v.checkLogo(fmt.Sprintf("staticClients[%d].logoURL", i), cl.LogoURL)
	}
}

// checkLogo checks a logo URL at path p: an https URL (oidc.CheckLogoURL),
// since the pages' CSP allows images from its origin. A relative path
// (only frontend.logoURL may name a file of frontend.dir) loads with a
// warning and is not shown: a missing logo changes nothing else.
func (v validator) checkLogo(p, s string) {
	if s == "" {
		return
	}
	if u, err := url.Parse(s); err == nil && u.Scheme == "" && u.Host == "" {
		v.d.warn(p, fmt.Sprintf("%q: has no effect (only frontend.logoURL may name a file of frontend.dir; give an https URL)", s))
		return
	}
	if err := oidc.CheckLogoURL(s); err != nil {
		v.fail(p, "%q: must be an https URL with a host name, such as https://cdn.example.com/logo.png (the pages' Content-Security-Policy allows images from its origin)", s)
	}
}

// checkDirLogo checks a relative frontend.logoURL, Dex's form (like
// theme/logo.png): a file of frontend.dir, served under the issuer. It
// reports whether the URL was relative.
func (v validator) checkDirLogo(f *Frontend) bool {
	const p = "frontend.logoURL"
	u, err := url.Parse(f.LogoURL)
	if f.LogoURL == "" || err != nil || u.Scheme != "" || u.Host != "" {
		return false
	}
	key, ok := oidc.DirLogoPath(f.LogoURL)
	switch {
	case !ok:
		v.fail(p, "%q: must be an https URL, or a path under static/ or theme/ of frontend.dir", f.LogoURL)
	case f.Dir == "":
		v.d.warn(p, fmt.Sprintf("%q: has no effect (frontend.dir is not set: no file is served at %s)", f.LogoURL, key))
	case f.Files != nil: // read: the file must be there
		if _, found := f.Files[key]; !found {
			v.fail(p, "%q: no such file in frontend.dir (%s is served from static/ and themes/<theme>/)", f.LogoURL, key)
		}
	}
	return true
}
