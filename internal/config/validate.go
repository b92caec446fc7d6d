package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// oob is the out-of-band redirect URI of native apps that cannot receive a
// redirect; the user copies the code by hand.
const oob = "urn:ietf:wg:oauth:2.0:oob"

// DeviceCallback is the redirect URI of Dex's device-flow client: a path on
// the provider itself, where Dex's device flow ends. It is allowed in
// redirectURIs of public clients only. Until this provider has the device
// grant it loads and matches no authorization request.
const DeviceCallback = "/device/callback"

// validator checks a decoded Config. It holds the decoder that decoded it,
// for the decoder's record of the file: where each key path came from,
// which keys were set, which values it already rejected, and the errors so
// far. So a validation problem names the file and line like a decoding one,
// and a value that failed to decode is not reported again.
type validator struct {
	d *decoder
}

// fail reports a validation problem at path p unless p, or a value above
// it, was already rejected while decoding.
func (v validator) fail(p, format string, args ...any) {
	if v.d.isBad(p) {
		return
	}
	v.d.add(p, fmt.Sprintf(format, args...))
}

// validate checks the decoded configuration after overrides and defaults.
// It reports every problem it finds; none of its messages shows a secret or
// a password hash.
func (v validator) validate(c *Config) {
	v.validateIssuer(c.Issuer)
	v.validateWeb(&c.Web)
	v.validateAlgorithm(c.algorithm)
	validateSigningAlgs(v, c.Extensions)
	v.validatePasswords(c)
	v.validateClients(c.StaticClients)
	v.validateOAuth2(&c.OAuth2)
	v.validateConnectors(c)
	v.validateExpiry(&c.Expiry)
	v.validateLogger(&c.Logger)
	v.validateFrontend(c)
	v.validateSessions(c)
	v.validateWebFinger(c.Extensions.WebFinger)
	v.validateRegistration(c)
	if d := c.Extensions.DPoP; d.RequireNonce && len(d.NonceSecret) < 32 {
		v.fail("extensions.dpop.nonceSecret", "requireNonce needs a nonceSecret of at least 32 characters")
	}
	v.validateResourceServers(c)
	validatePAR(v, c.Extensions.PAR)
	validateProfiles(v, c)
}

// isLoopback reports whether host (without brackets) is localhost or a
// loopback address (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

const loopbackHosts = "127.0.0.1, [::1], localhost"

func (v validator) validateIssuer(s string) {
	const p = "issuer"
	if s == "" {
		v.fail(p, "required: the URL at which clients reach this provider, like https://id.example.com")
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		v.fail(p, "%q is not an absolute URL like https://id.example.com", s)
		return
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http":
		if !isLoopback(u.Hostname()) {
			v.fail(p, "%q: http is allowed only for loopback hosts (%s); use https", s, loopbackHosts)
		}
	default:
		v.fail(p, "%q: the scheme must be https", s)
	}
	if u.User != nil {
		v.fail(p, "%q must not contain user information", s)
	}
	if u.RawQuery != "" || u.ForceQuery {
		v.fail(p, "%q must not have a query", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		v.fail(p, "%q must not have a fragment", s)
	}
	if strings.HasSuffix(u.Path, "/") {
		v.fail(p, "%q must not end with a slash", s)
	}
}

func (v validator) validateWeb(w *Web) {
	if host, port, err := net.SplitHostPort(w.HTTP); err != nil || !validPort(port) || strings.ContainsAny(host, " /") {
		v.fail("web.http", "%q is not a listen address host:port like 127.0.0.1:5556", w.HTTP)
	}
	for i, o := range w.AllowedOrigins {
		v.checkOrigin(fmt.Sprintf("web.allowedOrigins[%d]", i), o)
	}
	switch h := w.ClientRemoteIP.Header; {
	case h == "":
	case slices.Contains([]string{"x-forwarded-for", "forwarded", "x-real-ip"}, strings.ToLower(h)):
		v.fail("web.clientRemoteIP.header", "%q can be written by any client; name the one header your CDN sets and overwrites (CloudFront-Viewer-Address)", h)
	case !validHeaderName(h):
		v.fail("web.clientRemoteIP.header", "%q is not an HTTP header name", h)
	}
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535 && s != "" && s[0] != '+' && s[0] != '-'
}

// validateAlgorithm checks signer.config.algorithm, the one backend key
// this package reads (see Config.SigningAlgorithm).
func (v validator) validateAlgorithm(alg string) {
	if !slices.Contains(oidc.SigningAlgorithms, alg) {
		v.fail("signer.config.algorithm", "unknown algorithm %q (%s)", alg, orList(oidc.SigningAlgorithms))
	}
}

func (v validator) validateClients(cs []Client) {
	ids := map[string]int{}
	for i, c := range cs {
		p := fmt.Sprintf("staticClients[%d]", i)
		validateClientAlgs(v, p, c)
		if c.ID == "" {
			v.fail(p+".id", "required")
		} else if j, dup := ids[c.ID]; dup {
			v.fail(p+".id", "duplicate client id %q (also staticClients[%d])", c.ID, j)
		} else {
			ids[c.ID] = i
		}
		switch {
		case c.Public && (c.Secret != "" || c.SecretEnv != ""):
			k := ".secret"
			if c.SecretEnv != "" {
				k = ".secretEnv"
			}
			v.fail(p+k, "a public client must not have a secret; remove it, or remove public: true")
		case c.Public && (c.JWKS != "" || c.JWKSURI != ""):
			v.fail(p+".jwks", "a public client has no keys; remove jwks and jwksURI, or remove public: true")
		case c.Public:
		case c.JWKS != "" || c.JWKSURI != "":
			v.validateClientKeys(p, c)
		case c.Secret == "": // a secretEnv naming an unset variable is reported while decoding
			v.fail(p+".secret", "required for a confidential client (secret or secretEnv); set public: true for a client that cannot keep a secret")
		}
		validateClientAuth(v, p, c)
		if len(c.RedirectURIs) == 0 && !c.Public && logsIn(c) {
			// A public client without redirect URIs is Dex's cli-app: it
			// may use the out-of-band URI and any loopback URI.
			v.fail(p+".redirectURIs", "at least one redirect URI is required (a public client without any may use the out-of-band and loopback URIs)")
		}
		for j, u := range c.RedirectURIs {
			v.checkRedirectURI(fmt.Sprintf("%s.redirectURIs[%d]", p, j), u, c.Public, true)
		}
		for j, u := range c.PostLogoutRedirectURIs {
			v.checkRedirectURI(fmt.Sprintf("%s.postLogoutRedirectURIs[%d]", p, j), u, c.Public, false)
		}
		for j, o := range c.AllowedOrigins {
			v.checkOrigin(fmt.Sprintf("%s.allowedOrigins[%d]", p, j), o)
		}
		if c.BackchannelLogoutURI != "" {
			if err := oidc.CheckBackchannelLogoutURI(c.BackchannelLogoutURI); err != nil {
				v.fail(p+".backchannelLogoutURI", "%s", err.Error())
			}
		}
	}
	for i, c := range cs {
		for j, peer := range c.TrustedPeers {
			pp := fmt.Sprintf("staticClients[%d].trustedPeers[%d]", i, j)
			if _, ok := ids[peer]; !ok {
				v.fail(pp, "%q is not the id of a static client", peer)
			} else if peer == c.ID {
				v.fail(pp, "a client always trusts itself; remove %q", peer)
			}
		}
	}
}

// validateClientKeys checks a private_key_jwt client: jwks or jwksURI,
// not both, and no secret (a client authenticates one way).
func (v validator) validateClientKeys(p string, c Client) {
	switch {
	case c.Secret != "" || c.SecretEnv != "":
		v.fail(p+".secret", "a client with jwks or jwksURI authenticates with private_key_jwt and has no secret; remove one")
	case c.JWKS != "" && c.JWKSURI != "":
		v.fail(p+".jwksURI", "set jwks or jwksURI, not both")
	case c.JWKS != "":
		if _, err := oidc.ParseClientJWKS(c.JWKS); err != nil {
			v.fail(p+".jwks", "%s", err.Error())
		}
	default:
		if err := oidc.CheckJWKSURI(c.JWKSURI); err != nil {
			v.fail(p+".jwksURI", "%s", err.Error())
		}
	}
}

// checkRedirectURI applies oidc.CheckRedirectURI, the rules dynamic
// client registration applies too.
func (v validator) checkRedirectURI(p, s string, public, allowOOB bool) {
	if err := oidc.CheckRedirectURI(s, public, allowOOB); err != nil {
		v.fail(p, "%s", err.Error())
	}
}

// checkOrigin accepts "*" or a web origin scheme://host[:port] with no path.
func (v validator) checkOrigin(p, s string) {
	if s == "*" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#") {
		v.fail(p, `%q is not "*" or an origin like https://app.example.com (scheme://host[:port], no path)`, s)
	}
}

func (v validator) validateOAuth2(o *OAuth2) {
	seen := map[string]bool{}
	for i, rt := range o.ResponseTypes {
		p := fmt.Sprintf("oauth2.responseTypes[%d]", i)
		switch {
		case !slices.Contains(oidc.ResponseTypeParts, rt):
			v.fail(p, "unknown response type %q (%s)", rt, orList(oidc.ResponseTypeParts))
		case seen[rt]:
			v.fail(p, "duplicate response type %q", rt)
		}
		seen[rt] = true
	}
	seen = map[string]bool{}
	for i, gt := range o.GrantTypes {
		p := fmt.Sprintf("oauth2.grantTypes[%d]", i)
		switch {
		case !slices.Contains(oidc.GrantTypes, gt):
			v.fail(p, "grant type %q is not supported (%s)", gt, orList(oidc.GrantTypes))
		case seen[gt]:
			v.fail(p, "duplicate grant type %q", gt)
		}
		seen[gt] = true
	}
	if len(o.GrantTypes) > 0 && !seen[oidc.GrantAuthorizationCode] {
		v.fail("oauth2.grantTypes", "%s is required: it is how every login ends", oidc.GrantAuthorizationCode)
	}
	v.validatePKCE(o.PKCE)
}

// validatePKCE checks oauth2.pkce.codeChallengeMethodsSupported, which may
// only narrow what is offered, and S256 is all that is: listing plain is a
// warning (it is never enabled), a list without S256 is an error.
func (v validator) validatePKCE(pk PKCE) {
	const p = "oauth2.pkce.codeChallengeMethodsSupported"
	methods := pk.CodeChallengeMethodsSupported
	for i, m := range methods {
		switch m {
		case pkceS256:
		case "plain":
			v.d.warn(fmt.Sprintf("%s[%d]", p, i), "has no effect: plain is never enabled (RFC 9700 §2.1.1); only S256 is offered")
		default:
			v.fail(fmt.Sprintf("%s[%d]", p, i), "unknown code challenge method %q (S256 or plain)", m)
		}
	}
	if len(methods) > 0 && !slices.Contains(methods, pkceS256) {
		v.fail(p, "S256 must be listed: it is the only method this provider offers")
	}
}

// pkceS256 is the one PKCE method offered (RFC 7636 §4.2).
const pkceS256 = "S256"

func (v validator) validateExpiry(e *Expiry) {
	// Durations were checked while decoding: only explicit values can be
	// out of range, and they are reported with the key as written.
	const rt = "expiry.refreshTokens."
	if e.RefreshTokens.DisableRotation && !v.d.set[rt+"validIfNotUsedFor"] && !v.d.set[rt+"validForIfNotUsed"] && !v.d.set[rt+"absoluteLifetime"] {
		v.fail(rt+"disableRotation", "without rotation a leaked refresh token stays usable; also set validIfNotUsedFor or absoluteLifetime")
	}
}

func (v validator) validateLogger(l *Logger) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		v.fail("logger.level", "unknown level %q (debug, info, warn or error)", l.Level)
	}
	switch l.Format {
	case "text", "json":
	default:
		v.fail("logger.format", "unknown format %q (text or json)", l.Format)
	}
}

// validHeaderName reports whether h is an HTTP field name (RFC 9110 §5.1: a
// token).
func validHeaderName(h string) bool {
	for _, c := range h {
		if c > 0x7e || c <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c) {
			return false
		}
	}
	return h != ""
}
