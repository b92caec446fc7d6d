// Package privatekeyjwt tests private_key_jwt client authentication
// (OpenID Connect Core §9, RFC 7523) end to end with npm's openid-client
// (5.x, a certified relying party library, from tools/: `make tools`): a
// confidential client without a secret, whose public key is in the
// config's jwks, redeems a code, introspects and revokes its access token,
// each time with a signed client assertion, on the memory store and on
// DynamoDB Local (where the assertions' jti are remembered).
package privatekeyjwt
