package oidc

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
	PathJWKS          = "/.well-known/jwks.json"
	PathAuthorize     = "/authorize"
	PathLogin         = "/login"
	PathConsent       = "/consent"
	PathLogout        = "/logout" // RP-Initiated Logout 1.0 end_session_endpoint
	PathToken         = "/token"
	PathRevoke        = "/revoke"     // RFC 7009
	PathIntrospect    = "/introspect" // RFC 7662
	PathUserInfo      = "/userinfo"
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
	{FunctionJWKS, "GET", PathJWKS},
	{FunctionJWKS, "OPTIONS", PathJWKS},
	{FunctionAuthorize, "GET", PathAuthorize},
	{FunctionAuthorize, "POST", PathAuthorize},
	{FunctionAuthorize, "POST", PathLogin},
	{FunctionAuthorize, "POST", PathConsent},
	{FunctionAuthorize, "GET", PathLogout},
	{FunctionAuthorize, "POST", PathLogout},
	{FunctionToken, "POST", PathToken},
	{FunctionToken, "OPTIONS", PathToken},
	{FunctionToken, "POST", PathRevoke},
	{FunctionToken, "OPTIONS", PathRevoke},
	{FunctionToken, "POST", PathIntrospect},
	{FunctionUserInfo, "GET", PathUserInfo},
	{FunctionUserInfo, "POST", PathUserInfo},
	{FunctionUserInfo, "OPTIONS", PathUserInfo},
}

// Functions lists the Lambda functions in a stable order.
var Functions = []string{FunctionAuthorize, FunctionToken, FunctionUserInfo, FunctionDiscovery, FunctionJWKS}
