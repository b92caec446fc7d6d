// A client of npm's openid-client (5.x) that pushes its authorization
// requests (RFC 9126) as signed request objects (RFC 9101).
//
//   node par.cjs <tools dir> push <issuer> <client JSON> <private JWK or ""> <redirect URI> <code verifier> <state> <nonce>
//   node par.cjs <tools dir> callback <issuer> <client JSON> <private JWK or ""> <redirect URI> <code verifier> <state> <nonce> <callback URL>
//
// push signs the request object (client.requestObject), pushes it
// (client.pushedAuthorizationRequest, authenticating with the client's
// token_endpoint_auth_method) and prints the authorization URL
// (client_id and request_uri); callback redeems the code of the callback
// URL and introspects the access token. Each prints one JSON object on
// stdout; any failure exits 1 with the error on stderr.
const path = require('node:path');
const [tools, step, issuerURL, clientJSON, privateJWK, redirectURI, codeVerifier, state, nonce, callbackURL] = process.argv.slice(2);
const { Issuer, generators } = require(path.join(tools, 'node_modules', 'openid-client'));

async function main() {
  const issuer = await Issuer.discover(issuerURL);
  const keys = privateJWK ? { keys: [JSON.parse(privateJWK)] } : undefined;
  const client = new issuer.Client({ ...JSON.parse(clientJSON), redirect_uris: [redirectURI], response_types: ['code'] }, keys);
  if (step === 'push') {
    const request = await client.requestObject({
      response_type: 'code', redirect_uri: redirectURI, scope: 'openid email', state, nonce,
      code_challenge: generators.codeChallenge(codeVerifier), code_challenge_method: 'S256',
    });
    const pushed = await client.pushedAuthorizationRequest({ request });
    process.stdout.write(JSON.stringify({
      par_endpoint: issuer.pushed_authorization_request_endpoint,
      request_algs: issuer.request_object_signing_alg_values_supported,
      auth_methods: issuer.token_endpoint_auth_methods_supported,
      expires_in: pushed.expires_in,
      url: client.authorizationUrl({ request_uri: pushed.request_uri }),
    }));
    return;
  }
  const params = client.callbackParams(callbackURL);
  const tokens = await client.callback(redirectURI, params, { code_verifier: codeVerifier, state, nonce });
  const info = await client.introspect(tokens.access_token, 'access_token');
  process.stdout.write(JSON.stringify({
    sub: tokens.claims().sub,
    email: tokens.claims().email,
    active: info.active,
    client_id: info.client_id,
  }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
