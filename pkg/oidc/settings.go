package oidc

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Settings are what every endpoint type shares: the issuer, the policies
// that gate behaviour, lifetimes, and the clock, randomness and logger.
// Backends are not settings: each endpoint type takes only the ones it uses.
type Settings struct {
	// Issuer is the exact issuer URL; every endpoint URL is built from it and
	// never from request headers (Host, X-Forwarded-*, Forwarded).
	Issuer string

	// Profile holds every client to a security profile: ProfileFAPI2 (the
	// FAPI 2.0 Security Profile, profile.go) or "" (none; a client may
	// still name one in Client.Profile).
	Profile string

	// IDTokenSigningAlgorithms are the JWS algorithms the signer can sign
	// ID tokens and userinfo responses with, RS256 first, for discovery
	// (which must not call the signer: id_token_signing_alg_values_supported,
	// userinfo_signing_alg_values_supported) and for registration. Neither
	// is ever signed with another. Default [RS256].
	IDTokenSigningAlgorithms []string
	// AccessTokenAlgorithm signs access tokens (RFC 9068); the signer MUST
	// have a key of it. Empty: ES256 when the signer has an ES256 key,
	// else IDTokenSigningAlgorithm. A resource server may name its own.
	AccessTokenAlgorithm string
	// IDTokenSigningAlgorithm signs the ID tokens of a client that names
	// no algorithm (Client.IDTokenSigningAlg): signer.config.algorithm, one
	// of IDTokenSigningAlgorithms. Default: RS256 if listed, else the first.
	IDTokenSigningAlgorithm string
	// ResponseTypes are the response type parts allowed: code, token,
	// id_token (Dex's oauth2.responseTypes). Default [code] (RFC 9700 §2.1.2).
	ResponseTypes []string
	// GrantTypes are the token endpoint grants allowed (Dex's
	// oauth2.grantTypes), each one of GrantTypes. Default:
	// DefaultGrantTypes (all but the password grant, which is opt-in).
	GrantTypes []string
	// RefreshTokens are Dex's expiry.refreshTokens settings.
	RefreshTokens RefreshPolicy
	// LoginThrottle limits password guessing; zero fields take defaults.
	LoginThrottle LoginThrottle
	// ClientAddressHeader names the ONE request header the login throttle
	// takes the client's address from, for a provider behind a CDN, where
	// every request's peer is the CDN: for example
	// "CloudFront-Viewer-Address" (an origin request policy must forward
	// it), whose value is ip:port, IPv6 without brackets
	// ("2001:db8::1:443"); the address is what comes before the last colon.
	// A missing, repeated or malformed header falls back to the peer address
	// and is logged at debug level. Set it only when every request reaches
	// the provider through that CDN, which sets the header itself: whoever
	// can reach the origin directly can write any address in it. Empty (the
	// default): the peer address (API Gateway's sourceIp). X-Forwarded-For
	// and Forwarded are never trusted, whoever sends them.
	ClientAddressHeader string
	// OmitTokenEndpointAtHash leaves at_hash out of ID tokens from the token
	// endpoint (where OpenID Connect Core §3.1.3.6 makes it OPTIONAL), so the
	// ID token and access token are signed concurrently: one KMS round trip
	// of latency instead of two. Front-channel ID tokens always carry it.
	OmitTokenEndpointAtHash bool
	// SkipApprovalScreen skips the consent page (Dex's oauth2.skipApprovalScreen).
	SkipApprovalScreen bool
	// AlwaysShowLoginScreen shows the login page even when a client has
	// one callback connector, which the browser otherwise goes straight
	// to (Dex's oauth2.alwaysShowLoginScreen).
	AlwaysShowLoginScreen bool
	// PlainSubjects makes a user's sub its id at the connector alone (the
	// password database's userID), not Dex's encoding of that id with the
	// connector's (Subject). For deployments whose relying parties already
	// know those subjects; two connectors' users with the same id are
	// then one subject.
	PlainSubjects bool
	// WebFingerDomains are the host names whose users' identifiers the
	// WebFinger endpoint answers with this issuer (OpenID Connect
	// Discovery §2); none: it answers none.
	WebFingerDomains []string
	// Registration is dynamic client registration's policy (RFC 7591):
	// closed by default.
	Registration RegistrationPolicy
	// RequirePKCE requires a code_challenge from every client whose
	// response type includes code, confidential ones too (OAuth 2.1; Dex's
	// oauth2.pkce.enforce). Public clients always need one (RFC 9700
	// §2.1.1).
	RequirePKCE bool
	// AllowedOrigins are web origins (or "*") allowed to call discovery,
	// JWKS, token and userinfo from a browser, for every client.
	AllowedOrigins []string
	// ClientOrigins is the union of every client's Client.AllowedOrigins.
	// Discovery and JWKS accept them; token and userinfo narrow to the
	// origins of the client they serve.
	ClientOrigins []string
	// Frontend is how the pages look (Dex's frontend settings).
	Frontend Frontend
	// DPoP is sender-constrained tokens' policy (RFC 9449; dpop.go).
	DPoP DPoPPolicy
	// AssertionTokenEndpointAudience accepts the token endpoint URL as the
	// aud of client assertions beside the issuer (clientassertion.go
	// audienceOK says why it is off by default). Never for FAPI clients.
	AssertionTokenEndpointAudience bool
	// PAR is pushed authorization requests' policy (RFC 9126; par.go).
	PAR PARPolicy
	// ResourceServers are the APIs access tokens may be issued for, named
	// by the resource parameter (RFC 8707; resource.go).
	ResourceServers []ResourceServer

	IDTokenLifetime     time.Duration // ID and access tokens; default 1h
	AuthRequestLifetime time.Duration // pending logins; default 30m
	AuthCodeLifetime    time.Duration // default 1m
	SessionIdleTimeout  time.Duration // single sign-on session unused this long ends; default 24h
	SessionLifetime     time.Duration // single sign-on session ends this long after login; default 168h
	ConsentLifetime     time.Duration // approvals are remembered this long; default 2160h
	// DeviceRequestLifetime is the life of a device code and its user
	// code (Dex's expiry.deviceRequests); default 5m.
	DeviceRequestLifetime time.Duration
	// DevicePollInterval is the polling interval a device is told
	// (RFC 8628 §3.2, whole seconds); default 5s.
	DevicePollInterval time.Duration
	// UserCodeThrottle limits the user codes tried at the device page.
	UserCodeThrottle UserCodeThrottle
	// SSOSharedWithDefault is whom the session of a client without
	// Client.SSOSharedWithSet may answer: SSOShareAll ("" too) or
	// SSOShareNone; any other value shares with none.
	SSOSharedWithDefault string
	// BackchannelLogout bounds the delivery of logout tokens
	// (backchannel.go).
	BackchannelLogout BackchannelLogoutDelivery

	// OnSecurityEvent, if set, is told of each SecurityEvent (events.go):
	// the functions' metrics count them.
	OnSecurityEvent SecurityEventFunc

	Now    func() time.Time // default time.Now
	Rand   io.Reader        // default crypto/rand
	Logger *slog.Logger     // default slog.Default()
}

// complete validates s and fills in defaults. It does no I/O.
func (s Settings) complete() (Settings, *url.URL, error) {
	iss, err := url.Parse(s.Issuer)
	if err != nil || !iss.IsAbs() || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" || strings.HasSuffix(s.Issuer, "/") {
		return s, nil, fmt.Errorf("oidc: issuer %q must be an absolute URL without query, fragment or trailing slash", s.Issuer)
	}
	if iss.Scheme != "https" && !(iss.Scheme == "http" && isLoopbackHost(iss.Hostname())) {
		return s, nil, fmt.Errorf("oidc: issuer %q must use https (http only on loopback hosts)", s.Issuer)
	}
	s.LoginThrottle = s.LoginThrottle.withDefaults()
	if err := s.completeProfile(); err != nil {
		return s, nil, err
	}
	if !validRegistrationPolicy(s.Registration) {
		return s, nil, fmt.Errorf("oidc: unknown registration policy %q", s.Registration.Policy)
	}
	if len(s.GrantTypes) == 0 {
		s.GrantTypes = DefaultGrantTypes
	}
	for _, g := range s.GrantTypes {
		if !slices.Contains(GrantTypes, g) {
			return s, nil, fmt.Errorf("oidc: unsupported grant type %q", g)
		}
	}
	if len(s.ResponseTypes) == 0 {
		s.ResponseTypes = []string{"code"}
	}
	if err := s.completeAlgorithms(); err != nil {
		return s, nil, err
	}
	if err := resourceServers(s.ResourceServers).validate(s.Issuer); err != nil {
		return s, nil, err
	}
	setDefault(&s.DPoP.ProofWindow, time.Minute)
	setDefault(&s.DPoP.NonceLifetime, 5*time.Minute)
	if s.DPoP.RequireNonce && len(s.DPoP.NonceKey) < 32 {
		return s, nil, fmt.Errorf("oidc: DPoP nonces need a nonce key of at least 32 bytes")
	}
	setDefault(&s.PAR.Lifetime, time.Minute)
	if s.PAR.Lifetime > MaxPARLifetime {
		return s, nil, fmt.Errorf("oidc: a pushed request may live %s at most", MaxPARLifetime)
	}
	setDefault(&s.IDTokenLifetime, time.Hour)
	setDefault(&s.AuthRequestLifetime, 30*time.Minute)
	setDefault(&s.AuthCodeLifetime, time.Minute)
	setDefault(&s.SessionIdleTimeout, 24*time.Hour)
	setDefault(&s.SessionLifetime, 7*24*time.Hour)
	setDefault(&s.ConsentLifetime, 90*24*time.Hour)
	setDefault(&s.DeviceRequestLifetime, 5*time.Minute)
	setDefault(&s.DevicePollInterval, 5*time.Second)
	s.DevicePollInterval = max(s.DevicePollInterval.Truncate(time.Second), time.Second)
	s.UserCodeThrottle = s.UserCodeThrottle.withDefaults()
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Rand == nil {
		s.Rand = rand.Reader
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return s, iss, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// isLoopbackHost reports whether host names this machine's loopback
// interface, where plain http is acceptable (RFC 8252 §8.3).
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// completeAlgorithms defaults and checks the signing algorithms: those of
// ID tokens (RS256 unless told otherwise, OpenID Connect Core §15.1) and
// of access tokens.
func (s *Settings) completeAlgorithms() error {
	if len(s.IDTokenSigningAlgorithms) == 0 {
		s.IDTokenSigningAlgorithms = []string{RS256}
	}
	for _, alg := range s.IDTokenSigningAlgorithms {
		if !slices.Contains(SigningAlgorithms, alg) {
			return fmt.Errorf("oidc: unsupported ID token signing algorithm %q", alg)
		}
	}
	if s.IDTokenSigningAlgorithm == "" {
		s.IDTokenSigningAlgorithm = s.IDTokenSigningAlgorithms[0]
		if slices.Contains(s.IDTokenSigningAlgorithms, RS256) {
			s.IDTokenSigningAlgorithm = RS256
		}
	}
	if !slices.Contains(s.IDTokenSigningAlgorithms, s.IDTokenSigningAlgorithm) {
		return fmt.Errorf("oidc: the default ID token algorithm %s is not among %v", s.IDTokenSigningAlgorithm, s.IDTokenSigningAlgorithms)
	}
	if p := s.Registration.Policy; p != "" && p != RegistrationClosed && !slices.Contains(s.IDTokenSigningAlgorithms, RS256) && s.Profile != ProfileFAPI2 {
		// A registered client that names no algorithm gets RS256 (Dynamic
		// Client Registration §2; OpenID Connect Core §15.1), except under
		// FAPI 2.0, which allows no RS256 (§5.4.1): it gets PS256 or ES256.
		return fmt.Errorf("oidc: dynamic registration needs RS256 among the ID token algorithms %v", s.IDTokenSigningAlgorithms)
	}
	if a := s.AccessTokenAlgorithm; a != "" && !slices.Contains(SigningAlgorithms, a) {
		return fmt.Errorf("oidc: unsupported access token signing algorithm %q", a)
	}
	return nil
}
