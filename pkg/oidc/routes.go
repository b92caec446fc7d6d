package oidc

import "strings"

// Function names: each is one Lambda function (functions/<name>) and owns the
// routes listed for it in Routes.
const (
	FunctionDiscovery = "discovery"
	FunctionJWKS      = "jwks"
	FunctionAuthorize = "authorize"
	FunctionToken     = "token"
	FunctionUserInfo  = "userinfo"
)

// Endpoint paths, relative to the issuer's path. Defined once: the router,
// the discovery document, template.yaml and the CDK stack all use these
// (tests check that the infrastructure agrees).
const (
	PathDiscovery     = "/.well-known/openid-configuration"
	PathOAuthMetadata = "/.well-known/oauth-authorization-server" // RFC 8414
	PathWebFinger     = "/.well-known/webfinger"                  // RFC 7033
	PathJWKS          = "/.well-known/jwks.json"
	PathAuthorize     = "/authorize"
	PathLogin         = "/login"
	PathConsent       = "/consent"
	PathLogout        = "/logout" // RP-Initiated Logout 1.0 end_session_endpoint
	// PathCallback is where callback connectors' upstreams send the
	// browser back (Dex's path); PathCallbackConnector names the
	// connector too, for upstreams registered with one URL per connector.
	PathCallback          = "/callback"
	PathCallbackConnector = "/callback/{proxy+}"
	PathToken             = "/token"
	PathRevoke            = "/revoke"     // RFC 7009
	PathIntrospect        = "/introspect" // RFC 7662
	PathPAR               = "/par"        // RFC 9126
	PathUserInfo          = "/userinfo"
	// The device authorization grant (RFC 8628), at Dex's paths: the
	// device authorization endpoint and the user page.
	PathDeviceCode = "/device/code"
	PathDevice     = "/device"
	// PathRegister is the client registration endpoint (RFC 7591 §3);
	// PathRegisterClient the client configuration endpoint of each
	// registered client (RFC 7592 §2): its id follows the prefix.
	PathRegister       = "/register"
	PathRegisterClient = "/register/{proxy+}"
	// The files of Dex's frontend.dir (Frontend.Files), in Dex's URL
	// layout: static/… and themes/<theme>/… of the directory. A path
	// ending in {proxy+} is a prefix (API Gateway's greedy path variable);
	// every other path matches exactly.
	PathStatic = "/static/{proxy+}"
	PathTheme  = "/theme/{proxy+}"
)

// Route is one method and path served by one function.
type Route struct {
	Function string
	Method   string
	Path     string
}

// Routes is the function/route map: the single source of truth for which
// Lambda function answers which request. OPTIONS (CORS preflight) is listed
// where browsers call cross-origin.
var Routes = []Route{
	{FunctionDiscovery, "GET", PathDiscovery},
	{FunctionDiscovery, "OPTIONS", PathDiscovery},
	{FunctionDiscovery, "GET", PathOAuthMetadata},
	{FunctionDiscovery, "OPTIONS", PathOAuthMetadata},
	{FunctionDiscovery, "GET", PathWebFinger}, // open to every origin by its own header (RFC 7033 §5)
	{FunctionJWKS, "GET", PathJWKS},
	{FunctionJWKS, "OPTIONS", PathJWKS},
	{FunctionAuthorize, "GET", PathAuthorize},
	{FunctionAuthorize, "POST", PathAuthorize},
	{FunctionAuthorize, "GET", PathLogin},
	{FunctionAuthorize, "POST", PathLogin},
	// GET only: the browser binding cookie is SameSite=Lax, so an
	// upstream's cross-site form_post could not be bound to the browser.
	{FunctionAuthorize, "GET", PathCallback},
	{FunctionAuthorize, "GET", PathCallbackConnector},
	{FunctionAuthorize, "POST", PathConsent},
	{FunctionAuthorize, "GET", PathLogout},
	{FunctionAuthorize, "POST", PathLogout},
	{FunctionAuthorize, "GET", PathDevice},
	{FunctionAuthorize, "POST", PathDevice},
	{FunctionAuthorize, "GET", PathStatic},
	{FunctionAuthorize, "HEAD", PathStatic},
	{FunctionAuthorize, "GET", PathTheme},
	{FunctionAuthorize, "HEAD", PathTheme},
	{FunctionToken, "POST", PathToken},
	{FunctionToken, "OPTIONS", PathToken},
	{FunctionToken, "POST", PathRevoke},
	{FunctionToken, "OPTIONS", PathRevoke},
	{FunctionToken, "POST", PathIntrospect},
	{FunctionToken, "POST", PathPAR},
	{FunctionToken, "OPTIONS", PathPAR},
	{FunctionToken, "POST", PathDeviceCode},
	{FunctionToken, "POST", PathRegister},
	{FunctionToken, "GET", PathRegisterClient},
	{FunctionToken, "PUT", PathRegisterClient},
	{FunctionToken, "DELETE", PathRegisterClient},
	{FunctionUserInfo, "GET", PathUserInfo},
	{FunctionUserInfo, "POST", PathUserInfo},
	{FunctionUserInfo, "OPTIONS", PathUserInfo},
}

// Functions lists the Lambda functions in a stable order.
var Functions = []string{FunctionAuthorize, FunctionToken, FunctionUserInfo, FunctionDiscovery, FunctionJWKS}

// greedyVar is API Gateway's greedy path variable: a route whose path ends
// in it matches every path below the prefix before it.
const greedyVar = "{proxy+}"

// Greedy reports whether the route's path ends in {proxy+} (PathStatic,
// PathTheme) and returns the prefix it matches below, with its trailing
// slash.
func (r Route) Greedy() (prefix string, ok bool) {
	return strings.CutSuffix(r.Path, greedyVar)
}

// Sample is a path the route matches: its path, or for a greedy route a
// file below its prefix.
func (r Route) Sample() string {
	if prefix, ok := r.Greedy(); ok {
		return prefix + "logo.png"
	}
	return r.Path
}
