package connector

import (
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/serverless-oidc/op/internal/config"
)

// Validate runs c's checks for a constructor called without Open, so
// that no connector is built from a config Open would refuse. kind is the
// connector type, named in the errors with env.ID.
func Validate(kind string, env Env, c config.Validator) error {
	var problems []error
	c.Validate(func(key, msg string) {
		problems = append(problems, fmt.Errorf("%s connector %q: %s: %s", kind, env.ID, key, msg))
	})
	return errors.Join(problems...)
}

// CheckURL reports the URL raw at key unless it is absolute https, or
// http on a loopback host (for local upstreams and tests), without user
// information or a fragment: an upstream's endpoints require TLS (RFC
// 6749 §3.1, §3.2), so does the redirect URI in practice (§3.1.2.1), and
// it has no fragment (§3.1.2). Empty is reported when required.
func CheckURL(report func(key, msg string), key, raw string, required bool) {
	if raw == "" {
		if required {
			report(key, "required")
		}
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		report(key, fmt.Sprintf("%q is not an absolute https URL", raw))
	case u.Scheme == "http" && !loopback(u.Hostname()):
		report(key, fmt.Sprintf("%q: must use https (http only on a loopback host)", raw))
	case u.User != nil || u.Fragment != "":
		report(key, fmt.Sprintf("%q must not have user information or a fragment", raw))
	}
}

// loopback reports whether host is a loopback address or localhost.
func loopback(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host == "localhost"
}
