// Package resource tests resource servers (RFC 8707 resource indicators,
// RFC 9068 access tokens for an API) end to end on the provider app.New
// builds, on the memory store and on DynamoDB Local: a relying party
// written with npm's openid-client (a certified RP library, from tools/:
// `make tools`) asks for two APIs with their scopes, a cookie-jar client
// signs the user in, openid-client redeems the code with PKCE and
// refreshes down to one API, and the Go test verifies every access token
// as an API would, offline, with golang-jwt/jwt/v5 and the provider's
// JWKS, and the orders API introspects (RFC 7662) the token meant for it
// and finds the narrowed one inactive. It has no code of its own.
package resource
