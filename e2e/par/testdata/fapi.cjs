// A client of npm's openid-client (5.x) that pushes every authorization
// request (RFC 9126) with its code bound to a DPoP key (dpop_jkt, RFC 9449
// §10), uses PKCE S256 and gets DPoP-bound tokens: a FAPI 2.0 client
// (private_key_jwt with PS256), or a public client (an SPA or a mobile
// app: token_endpoint_auth_method none, no private JWK).
//
//   node fapi.cjs <tools dir> push <issuer> <client JSON> <client private JWK or ""> <redirect URI> <code verifier> <state> <nonce> <DPoP private JWK> <DPoP jkt>
//   node fapi.cjs <tools dir> callback <same arguments> <callback URL>
//
// push prints the provider's metadata the profile shows and the
// authorization URL (client_id and request_uri); callback redeems the
// code with a DPoP proof, calls userinfo and refreshes with the same key.
// Each prints one JSON object on stdout; any failure exits 1 with the
// error on stderr.
const path = require('node:path');
const crypto = require('node:crypto');
const [tools, step, issuerURL, clientJSON, privateJWK, redirectURI, codeVerifier, state, nonce, dpopJWK, dpopJKT, callbackURL] = process.argv.slice(2);
const { Issuer, generators } = require(path.join(tools, 'node_modules', 'openid-client'));

async function main() {
  const issuer = await Issuer.discover(issuerURL);
  const client = new issuer.Client({ ...JSON.parse(clientJSON), redirect_uris: [redirectURI], response_types: ['code'] },
    privateJWK ? { keys: [JSON.parse(privateJWK)] } : undefined);
  const dpop = crypto.createPrivateKey({ key: JSON.parse(dpopJWK), format: 'jwk' });
  if (step === 'push') {
    const pushed = await client.pushedAuthorizationRequest({
      scope: 'openid email offline_access', state, nonce, dpop_jkt: dpopJKT,
      code_challenge: generators.codeChallenge(codeVerifier), code_challenge_method: 'S256',
    });
    process.stdout.write(JSON.stringify({
      require_par: issuer.require_pushed_authorization_requests,
      auth_methods: issuer.token_endpoint_auth_methods_supported,
      response_types: issuer.response_types_supported,
      id_token_algs: issuer.id_token_signing_alg_values_supported,
      expires_in: pushed.expires_in,
      url: client.authorizationUrl({ request_uri: pushed.request_uri }),
    }));
    return;
  }
  const params = client.callbackParams(callbackURL);
  const tokens = await client.callback(redirectURI, params, { code_verifier: codeVerifier, state, nonce }, { DPoP: dpop });
  const userinfo = await client.userinfo(tokens, { DPoP: dpop });
  const refreshed = await client.refresh(tokens.refresh_token, { DPoP: dpop });
  process.stdout.write(JSON.stringify({
    token_type: tokens.token_type,
    id_token_alg: JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url')).alg,
    sub: tokens.claims().sub,
    userinfo_sub: userinfo.sub,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    refreshed_token_type: refreshed.token_type,
    refreshed_refresh_token: refreshed.refresh_token,
  }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
