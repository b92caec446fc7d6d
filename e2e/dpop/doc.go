// Package dpop tests DPoP (RFC 9449) end to end with npm's openid-client
// (5.x, a certified relying party library, from tools/: `make tools`): a
// public client's code flow with PKCE and a DPoP key, the user signing in
// at the provider's pages, then userinfo and a refresh with the same key,
// on the memory store and on DynamoDB Local, with and without server
// nonces (which openid-client answers by retrying with the nonce).
package dpop
