// Package registration tests dynamic client registration (RFC 7591) and
// client management (RFC 7592) end to end: a relying party written with
// npm's openid-client (a certified RP library, from tools/: `make tools`)
// registers itself with the provider on the memory store and on DynamoDB
// Local, a Go relying party (golang.org/x/oauth2 and coreos/go-oidc)
// signs a user in with the registered client (code flow with PKCE), and
// the Node RP reads, updates and deletes its registration.
package registration
