// Package oauth is the connector type oauth: Dex's generic OAuth 2.0
// connector, with Dex's configuration keys and meanings (dexidp's
// "Authentication Through an OAuth 2.0 Provider"). It runs the
// authorization code grant (RFC 6749 §4.1) with PKCE S256 (RFC 7636)
// against any OAuth 2.0 server and reads the user from its userInfoURL,
// mapping that JSON object's keys to the identity with userIDKey and
// claimMapping. With offline_access it keeps the access and refresh
// tokens, so that Refresh can refresh them upstream and read the user
// again: a refused refresh token or userinfo answer ends the grant.
package oauth
