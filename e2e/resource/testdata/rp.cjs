// A relying party that asks for tokens for an API with npm's openid-client
// (5.x, a certified RP library): Issuer.discover, an authorization URL
// with PKCE (S256), a nonce, the API's scopes and RFC 8707 resource
// indicators, then Client.callback (state, iss, nonce, PKCE and the ID
// token checked by openid-client) and two refreshes naming a resource in
// the token request (RFC 8707 §2.2): one the grant does not hold
// (refused), one it does (a down-scoped token).
//
//   node rp.cjs <tools dir> authorize <issuer> <client id> <secret> <redirect URI> <scope> <resource>...
//   node rp.cjs <tools dir> redeem <issuer> <client id> <secret> <callback URL> <checks JSON> <ungranted resource> <narrower resource>
//
// authorize prints {url, checks}; redeem prints {tokens, claims,
// refused, narrowed}. It prints one JSON object on stdout; any failure
// exits 1 with the error on stderr.
const path = require('node:path');
const [tools, mode, issuerURL, clientID, secret, ...args] = process.argv.slice(2);
const { Issuer, generators, errors } = require(path.join(tools, 'node_modules', 'openid-client'));

async function client(redirectURI) {
  const issuer = await Issuer.discover(issuerURL);
  return new issuer.Client({
    client_id: clientID, client_secret: secret, redirect_uris: [redirectURI], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: issuer.id_token_signing_alg_values_supported[0],
  });
}

async function authorize(redirectURI, scope, ...resource) {
  const c = await client(redirectURI);
  const checks = { state: generators.state(), nonce: generators.nonce(), code_verifier: generators.codeVerifier() };
  const url = c.authorizationUrl({
    scope, resource, state: checks.state, nonce: checks.nonce,
    code_challenge: generators.codeChallenge(checks.code_verifier), code_challenge_method: 'S256',
  });
  return { url, checks };
}

async function redeem(callbackURL, checksJSON, ungranted, narrower) {
  const cb = new URL(callbackURL);
  const redirectURI = cb.origin + cb.pathname;
  const c = await client(redirectURI);
  const checks = JSON.parse(checksJSON);
  const tokens = await c.callback(redirectURI, c.callbackParams(callbackURL), checks);
  const out = { tokens: { ...tokens }, claims: tokens.claims() };
  try {
    await c.refresh(tokens.refresh_token, { exchangeBody: { resource: ungranted } });
    out.refused = 'not refused';
  } catch (err) {
    out.refused = err instanceof errors.OPError ? err.error : String(err);
  }
  out.narrowed = { ...(await c.refresh(tokens.refresh_token, { exchangeBody: { resource: narrower } })) };
  return out;
}

(mode === 'authorize' ? authorize(...args) : redeem(...args))
  .then((out) => { process.stdout.write(JSON.stringify(out) + '\n'); })
  .catch((err) => { process.stderr.write(String(err && err.stack || err) + '\n'); process.exit(1); });
