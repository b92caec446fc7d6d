package oidc

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckRedirectURI applies RFC 6749 §3.1.2 and this provider's rules to a
// redirect URI a client registers, in the config (staticClients) or by
// dynamic registration (RFC 7591): an absolute URI without fragment or
// wildcard; https with a host; http only for loopback hosts (RFC 8252
// §7.3); custom schemes (RFC 8252 §7.1), and, when allowOOB, the
// out-of-band URI and Dex's device callback, only for public clients.
// allowOOB is false for post-logout redirect URIs. The error's text says
// what is wrong, without a prefix, for the config's and the registration
// endpoint's messages.
func CheckRedirectURI(s string, public, allowOOB bool) error {
	switch {
	case s == "":
		return errors.New("must not be empty")
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%q must not have leading or trailing spaces", s)
	case s == deviceCallback && allowOOB:
		if !public {
			return fmt.Errorf("%s (Dex's device flow) is allowed for public clients only", deviceCallback)
		}
		return nil
	case s == redirectOOB:
		if !allowOOB {
			return fmt.Errorf("%s is not a place to return to", redirectOOB)
		} else if !public {
			return fmt.Errorf("%s is allowed for public clients only", redirectOOB)
		}
		return nil
	case strings.Contains(s, "*"):
		return fmt.Errorf("%q: wildcards are not allowed; list each URI", s)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a valid URI", s)
	case u.Scheme == "":
		return fmt.Errorf("%q is not an absolute URI (RFC 6749 §3.1.2)", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("%q must not contain a fragment (RFC 6749 §3.1.2)", s)
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "https":
		if u.Hostname() == "" {
			return fmt.Errorf("%q needs a host", s)
		}
	case "http":
		switch {
		case u.Hostname() == "":
			return fmt.Errorf("%q needs a host", s)
		case !loopbackName(u.Hostname()):
			return fmt.Errorf("%q: http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https", s)
		}
	case "javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss":
		return fmt.Errorf("%q: the scheme %s is not allowed", s, scheme)
	default:
		if !public {
			return fmt.Errorf("%q: a custom scheme is allowed for public clients only (native apps, RFC 8252 §7.1)", s)
		}
	}
	return nil
}

// loopbackName is localhost (any case) or a loopback IP literal.
func loopbackName(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
