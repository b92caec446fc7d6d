// A public client that uses DPoP with npm's openid-client (5.x): it
// redeems the code of a login the Go test drove, with a DPoP proof
// (client.callback), calls userinfo with the bound token
// (client.userinfo), and refreshes with the same key (client.refresh).
// openid-client retries by itself when the provider asks for a nonce.
//
//   node dpop.cjs <tools dir> <issuer> <client id> <redirect URI> <callback URL> <code verifier> <state> <nonce>
//
// It prints one JSON object on stdout; any failure exits 1 with the error
// on stderr.
const path = require('node:path');
const crypto = require('node:crypto');
const [tools, issuerURL, clientID, redirectURI, callbackURL, codeVerifier, state, nonce] = process.argv.slice(2);
const { Issuer } = require(path.join(tools, 'node_modules', 'openid-client'));

async function main() {
  const issuer = await Issuer.discover(issuerURL);
  const client = new issuer.Client({
    client_id: clientID,
    token_endpoint_auth_method: 'none',
    redirect_uris: [redirectURI],
    response_types: ['code'],
  });
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const params = client.callbackParams(callbackURL);
  const tokens = await client.callback(redirectURI, params, { code_verifier: codeVerifier, state, nonce }, { DPoP: privateKey });
  const userinfo = await client.userinfo(tokens, { DPoP: privateKey });
  const refreshed = await client.refresh(tokens.refresh_token, { DPoP: privateKey });
  const again = await client.userinfo(refreshed, { DPoP: privateKey });
  process.stdout.write(JSON.stringify({
    dpop_algs: issuer.dpop_signing_alg_values_supported,
    jwk: publicKey.export({ format: 'jwk' }),
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    sub: tokens.claims().sub,
    userinfo,
    refreshed_token_type: refreshed.token_type,
    refreshed_access_token: refreshed.access_token,
    userinfo_after_refresh: again,
  }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
