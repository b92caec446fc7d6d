package oidc

import (
	"net/url"
	"slices"
	"strings"
)

// redirectOOB is the out-of-band redirect URI: the code is shown on a page
// for the user to copy into a CLI, as Dex does.
const redirectOOB = "urn:ietf:wg:oauth:2.0:oob"

// deviceCallback is the path Dex's device-flow clients register as their
// redirect URI (oauth2.deviceCallbackURI in Dex); it is the config's
// DeviceCallback.
const deviceCallback = "/device/callback"

// redirectURIAllowed matches a requested redirect URI against the client's
// registered ones: character for character (RFC 9700 §4.1.3: no patterns,
// no prefixes), except that a public client's loopback redirect matches a
// registered loopback URI that names no port on any port, never on any
// other host, path or query (RFC 8252 §7.3: native apps bind an ephemeral
// port). A registered loopback URI with a port matches only that port. A
// public client registered with no redirect URI at all accepts what Dex
// accepts for it: the out-of-band URI and any loopback URI.
func redirectURIAllowed(c Client, uri string) bool {
	if uri == deviceCallback {
		// Registered by Dex's device-flow clients; never a redirect target
		// of the authorization endpoint (a relative URI to nowhere).
		return false
	}
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	if !c.Public {
		return false
	}
	got, ok := parseLoopback(uri)
	if len(c.RedirectURIs) == 0 {
		// Dex's public client with no redirect URIs (its documented
		// cli-app): out of band, or any loopback port and path. Never
		// silent: such requests are unverifiable (RFC 8252 §8.6).
		return uri == redirectOOB || ok
	}
	if !ok {
		return false
	}
	for _, registered := range c.RedirectURIs {
		want, ok := parseLoopback(registered)
		if ok && want.Port() == "" && got.Hostname() == want.Hostname() &&
			got.EscapedPath() == want.EscapedPath() && got.RawQuery == want.RawQuery {
			return true
		}
	}
	return false
}

// isHTTPURL reports whether uri is an absolute http or https URL.
func isHTTPURL(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// parseLoopback parses an http URI whose host is a loopback literal
// (127.0.0.1, [::1]) or localhost, with no userinfo, no fragment, a numeric
// port if any, and nothing a browser might parse differently.
func parseLoopback(uri string) (*url.URL, bool) {
	if strings.ContainsAny(uri, "\\\t\r\n @") {
		return nil, false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" || u.Opaque != "" ||
		u.ForceQuery || strings.Contains(uri, "#") {
		// An empty "?" or "#" is a different URI from the registered one
		// (RFC 3986 §6.2.3 keeps them apart): exact matching refuses it.
		return nil, false
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
	default:
		return nil, false
	}
	for _, c := range u.Port() {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	return u, true
}
