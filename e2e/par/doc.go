// Package par tests pushed authorization requests (RFC 9126) with signed
// request objects (RFC 9101) end to end: npm's openid-client (5.x, a
// certified relying party library, from tools/: `make tools`) signs a
// request object, pushes it to /par authenticating with private_key_jwt
// (ES256 keys in the config's jwks) or client_secret_jwt (an HS256 HMAC of
// its secret), headless chromium signs in at the authorization endpoint
// with only client_id and request_uri, and openid-client redeems the code
// and introspects the access token, each request with a new client
// assertion; on the memory store and on DynamoDB Local (where the
// pushed requests and every jti are kept).
package par
