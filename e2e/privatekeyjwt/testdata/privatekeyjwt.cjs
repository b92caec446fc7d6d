// A confidential client that authenticates with private_key_jwt using
// npm's openid-client (5.x): it redeems the code of a login the Go test
// drove (client.callback), then introspects (client.introspect) and
// revokes (client.revoke) the access token, each request with a new
// client assertion signed by its private key.
//
//   node privatekeyjwt.cjs <tools dir> <issuer> <client id> <private JWK> <redirect URI> <callback URL> <code verifier> <state> <nonce>
//
// It prints one JSON object on stdout; any failure exits 1 with the error
// on stderr.
const path = require('node:path');
const [tools, issuerURL, clientID, privateJWK, redirectURI, callbackURL, codeVerifier, state, nonce] = process.argv.slice(2);
const { Issuer } = require(path.join(tools, 'node_modules', 'openid-client'));

async function main() {
  const issuer = await Issuer.discover(issuerURL);
  const client = new issuer.Client({
    client_id: clientID,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    redirect_uris: [redirectURI],
    response_types: ['code'],
  }, { keys: [JSON.parse(privateJWK)] });
  const params = client.callbackParams(callbackURL);
  const tokens = await client.callback(redirectURI, params, { code_verifier: codeVerifier, state, nonce });
  const before = await client.introspect(tokens.access_token, 'access_token');
  await client.revoke(tokens.access_token, 'access_token');
  const after = await client.introspect(tokens.access_token, 'access_token');
  process.stdout.write(JSON.stringify({
    auth_methods: issuer.token_endpoint_auth_methods_supported,
    auth_algs: issuer.token_endpoint_auth_signing_alg_values_supported,
    sub: tokens.claims().sub,
    active_before: before.active,
    client_id: before.client_id,
    active_after: after.active,
  }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
