package oidc

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config is everything a Provider needs. Stores and the signer are
// interfaces, so the same Provider runs on memory or DynamoDB, with a local
// key or KMS.
type Config struct {
	// Issuer is the exact issuer URL; every endpoint URL is built from it and
	// never from request headers (Host, X-Forwarded-*, Forwarded).
	Issuer string

	Clients      ClientStore
	Users        UserStore
	AuthRequests AuthRequestStore
	Codes        CodeStore
	Refresh      RefreshStore
	Revocations  RevocationStore
	Sessions     SessionStore
	Consents     ConsentStore
	Attempts     LoginAttempts
	Signer       Signer

	// SigningAlgorithms are the JWS algorithms the signer's keys use, for
	// discovery (which must not call the signer). Default [RS256].
	SigningAlgorithms []string
	// ResponseTypes are the response type parts allowed: code, token,
	// id_token (Dex's oauth2.responseTypes). Default [code] (RFC 9700 §2.1.2).
	ResponseTypes []string
	// GrantTypes are the token endpoint grants allowed (Dex's
	// oauth2.grantTypes). Default: authorization_code and refresh_token.
	GrantTypes []string
	// RefreshTokens are Dex's expiry.refreshTokens settings.
	RefreshTokens RefreshPolicy
	// LoginThrottle limits password guessing; zero fields take defaults.
	LoginThrottle LoginThrottle
	// OmitTokenEndpointAtHash leaves at_hash out of ID tokens from the token
	// endpoint (where OpenID Connect Core §3.1.3.6 makes it OPTIONAL), so the
	// ID token and access token are signed concurrently: one KMS round trip
	// of latency instead of two. Front-channel ID tokens always carry it.
	OmitTokenEndpointAtHash bool
	// SkipApprovalScreen skips the consent page (Dex's oauth2.skipApprovalScreen).
	SkipApprovalScreen bool
	// AllowedOrigins are web origins (or "*") allowed to call discovery,
	// JWKS, token and userinfo from a browser, for every client.
	AllowedOrigins []string
	// ClientOrigins is the union of every client's Client.AllowedOrigins.
	// Discovery and JWKS accept them; token and userinfo narrow to the
	// origins of the client they serve.
	ClientOrigins []string

	IDTokenLifetime     time.Duration // ID and access tokens; default 1h
	AuthRequestLifetime time.Duration // pending logins; default 30m
	AuthCodeLifetime    time.Duration // default 1m
	SessionIdleTimeout  time.Duration // single sign-on session unused this long ends; default 24h
	SessionLifetime     time.Duration // single sign-on session ends this long after login; default 168h
	ConsentLifetime     time.Duration // approvals are remembered this long; default 2160h

	Now    func() time.Time // default time.Now
	Rand   io.Reader        // default crypto/rand
	Logger *slog.Logger     // default slog.Default()
}

// Provider is an OpenID Provider. Build it once (at cold start) and serve
// its handlers for the life of the process; it is safe for concurrent use.
type Provider struct {
	cfg           Config
	issuer        *url.URL
	now           func() time.Time
	rand          io.Reader
	log           *slog.Logger
	secureCookies bool

	discovery []byte // marshalled once
	handlers  map[string]http.Handler
	keys      keyCache
}

// New validates cfg and builds a Provider. It does no I/O.
func New(cfg Config) (*Provider, error) {
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || !iss.IsAbs() || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" || strings.HasSuffix(cfg.Issuer, "/") {
		return nil, fmt.Errorf("oidc: issuer %q must be an absolute URL without query, fragment or trailing slash", cfg.Issuer)
	}
	if iss.Scheme != "https" && !(iss.Scheme == "http" && isLoopbackHost(iss.Hostname())) {
		return nil, fmt.Errorf("oidc: issuer %q must use https (http only on loopback hosts)", cfg.Issuer)
	}
	if cfg.Clients == nil || cfg.Users == nil || cfg.AuthRequests == nil || cfg.Codes == nil || cfg.Refresh == nil ||
		cfg.Revocations == nil || cfg.Sessions == nil || cfg.Consents == nil || cfg.Attempts == nil || cfg.Signer == nil {
		return nil, errors.New("oidc: Clients, Users, AuthRequests, Codes, Refresh, Revocations, Sessions, Consents, Attempts and Signer are required")
	}
	cfg.LoginThrottle = cfg.LoginThrottle.withDefaults()
	if len(cfg.GrantTypes) == 0 {
		cfg.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	for _, g := range cfg.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken {
			return nil, fmt.Errorf("oidc: unsupported grant type %q", g)
		}
	}
	if len(cfg.ResponseTypes) == 0 {
		cfg.ResponseTypes = []string{"code"}
	}
	if len(cfg.SigningAlgorithms) == 0 {
		cfg.SigningAlgorithms = []string{RS256}
	}
	setDefault(&cfg.IDTokenLifetime, time.Hour)
	setDefault(&cfg.AuthRequestLifetime, 30*time.Minute)
	setDefault(&cfg.AuthCodeLifetime, time.Minute)
	setDefault(&cfg.SessionIdleTimeout, 24*time.Hour)
	setDefault(&cfg.SessionLifetime, 7*24*time.Hour)
	setDefault(&cfg.ConsentLifetime, 90*24*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Provider{
		cfg:           cfg,
		issuer:        iss,
		now:           cfg.Now,
		rand:          cfg.Rand,
		log:           cfg.Logger,
		secureCookies: iss.Scheme == "https",
	}
	p.keys.signer = cfg.Signer
	if p.discovery, err = p.discoveryDocument(); err != nil {
		return nil, err
	}
	p.handlers = map[string]http.Handler{
		PathDiscovery:     http.HandlerFunc(p.serveDiscovery),
		PathOAuthMetadata: http.HandlerFunc(p.serveDiscovery),
		PathJWKS:          http.HandlerFunc(p.serveJWKS),
		PathAuthorize:     http.HandlerFunc(p.serveAuthorize),
		PathLogin:         http.HandlerFunc(p.serveLogin),
		PathConsent:       http.HandlerFunc(p.serveConsent),
		PathLogout:        http.HandlerFunc(p.serveLogout),
		PathToken:         http.HandlerFunc(p.serveToken),
		PathRevoke:        http.HandlerFunc(p.serveRevoke),
		PathIntrospect:    http.HandlerFunc(p.serveIntrospect),
		PathUserInfo:      http.HandlerFunc(p.serveUserInfo),
	}
	return p, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// Handler serves every route: the local server mounts it on one listener.
func (p *Provider) Handler() http.Handler { return p.router(Functions...) }

// FunctionHandler serves only the routes of one Lambda function (see
// Routes); any other request gets a JSON 404, never another endpoint's
// behaviour.
func (p *Provider) FunctionHandler(function string) http.Handler { return p.router(function) }

// URL returns the absolute URL of an endpoint path.
func (p *Provider) URL(path string) string { return p.cfg.Issuer + path }

// router dispatches exact issuer-relative paths and methods to handlers.
func (p *Provider) router(functions ...string) http.Handler {
	type route struct {
		methods []string
		cors    bool
		h       http.Handler
	}
	table := map[string]*route{}
	for _, rt := range Routes {
		if !slices.Contains(functions, rt.Function) {
			continue
		}
		full := p.issuer.Path + rt.Path
		if table[full] == nil {
			table[full] = &route{h: p.handlers[rt.Path]}
		}
		if rt.Method == http.MethodOptions {
			table[full].cors = true
		} else {
			table[full].methods = append(table[full].methods, rt.Method)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if RequestID(r.Context()) == "" {
			// Transports set their own id (API Gateway's); otherwise make one
			// so every log line of this request can be found together.
			r = r.WithContext(WithRequestID(r.Context(), newRequestID()))
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		rt := table[r.URL.Path]
		if rt == nil {
			p.writeError(w, r, &Error{Code: ErrCodeNotFound, Description: "no such endpoint", Status: http.StatusNotFound})
			return
		}
		if rt.cors && p.cors(w, r, rt.methods) {
			return // preflight answered
		}
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if !slices.Contains(rt.methods, method) {
			w.Header().Set("Allow", strings.Join(rt.methods, ", "))
			p.writeError(w, r, &Error{Code: ErrCodeMethodNotAllowed, Description: "method not allowed", Status: http.StatusMethodNotAllowed})
			return
		}
		rt.h.ServeHTTP(w, r)
	})
}

// cors applies the CORS policy of the back-channel endpoints and answers
// preflights; it reports whether the request was a preflight it answered.
// Origins match exactly (or "*"); the authorization endpoint never gets
// CORS headers: it is navigated to, not fetched.
func (p *Provider) cors(w http.ResponseWriter, r *http.Request, methods []string) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	allowed := origin != "" && p.originAllowed(origin)
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		if !preflight {
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
		}
	}
	if r.Method != http.MethodOptions {
		return false
	}
	if allowed && preflight {
		h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (p *Provider) originAllowed(origin string) bool {
	return originIn(p.cfg.AllowedOrigins, origin) || originIn(p.cfg.ClientOrigins, origin)
}

func originIn(list []string, origin string) bool {
	for _, o := range list {
		if o == "*" || o == origin {
			return true
		}
	}
	return false
}

// narrowCORS withdraws the CORS grant of a response that serves one client
// when the origin is allowed only for other clients.
func (p *Provider) narrowCORS(w http.ResponseWriter, r *http.Request, client Client) {
	origin := r.Header.Get("Origin")
	if origin == "" || originIn(p.cfg.AllowedOrigins, origin) || originIn(client.AllowedOrigins, origin) {
		return
	}
	w.Header().Del("Access-Control-Allow-Origin")
	w.Header().Del("Access-Control-Expose-Headers")
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
