// Package openid is the connector type oidc (Dex's OpenID Connect
// connector): users log in at an upstream OpenID Provider, configured with
// Dex's keys (Config). It owns the upstream half of the login: discovery
// (fetched at first use, then cached), the authorization request with a
// nonce and PKCE, the RFC 9207 iss check, the code exchange, full ID token
// verification with go-oidc, Dex's claim rules (claimMapping,
// claimModifications, allowedGroups), and the upstream refresh.
//
// Errors follow the core's contract: a user who declined upstream is
// oidc.ErrUpstreamDenied; an upstream that times out, cannot be reached or
// answers 5xx wraps oidc.ErrUnavailable; anything else the user is told
// about is an *oidc.UpstreamError whose Reason is short and holds no
// secret. At refresh, an upstream that no longer accepts the user is
// oidc.ErrUserGone.
package openid
