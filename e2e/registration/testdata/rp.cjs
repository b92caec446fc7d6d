// A relying party that registers itself with npm's openid-client (5.x, a
// certified RP library): Issuer.discover, Client.register (RFC 7591),
// Client.fromUri (RFC 7592 read), and Bearer requests to its client
// configuration endpoint for update and delete (RFC 7592 §2.2, §2.3).
//
//   node rp.cjs <tools dir> register <issuer> <redirect URI> [<initial access token>]
//   node rp.cjs <tools dir> manage <issuer> <client configuration URI> <registration access token>
//
// It prints one JSON object on stdout; any failure exits 1 with the error
// on stderr.
const path = require('node:path');
const [tools, mode, ...args] = process.argv.slice(2);
const { Issuer, errors } = require(path.join(tools, 'node_modules', 'openid-client'));

async function register(issuerURL, redirectURI, initialAccessToken) {
  const issuer = await Issuer.discover(issuerURL);
  const out = { registration_endpoint: issuer.registration_endpoint };
  // A refused registration: the provider's RFC 7591 §3.2.2 error code.
  try {
    await issuer.Client.register({ redirect_uris: ['http://rp.example/cb'] }, { initialAccessToken });
    out.refused = 'not refused';
  } catch (err) {
    out.refused = err instanceof errors.OPError ? err.error : String(err);
  }
  const client = await issuer.Client.register({
    redirect_uris: [redirectURI],
    post_logout_redirect_uris: [redirectURI],
    client_name: 'Node RP',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid email profile offline_access',
    contacts: ['ops@rp.example'],
    client_uri: 'https://rp.example',
    id_token_signed_response_alg: 'RS256',
  }, { initialAccessToken });
  out.client = client.metadata;
  return out;
}

async function manage(issuerURL, uri, token) {
  const issuer = await Issuer.discover(issuerURL);
  const read = await issuer.Client.fromUri(uri, token);
  const out = { read: read.metadata };
  const update = { ...read.metadata, client_name: 'Node RP, renamed' };
  for (const k of ['registration_access_token', 'registration_client_uri', 'client_id_issued_at', 'client_secret_expires_at']) delete update[k];
  const put = await read.requestResource(uri, token, {
    method: 'PUT', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(update),
  });
  out.update = { status: put.statusCode, body: JSON.parse(put.body.toString()) };
  const del = await read.requestResource(uri, token, { method: 'DELETE' });
  out.delete = { status: del.statusCode };
  try {
    await issuer.Client.fromUri(uri, token);
    out.afterDelete = 'still readable';
  } catch (err) {
    out.afterDelete = err instanceof errors.OPError ? err.error : String(err);
  }
  return out;
}

(mode === 'register' ? register(...args) : manage(...args))
  .then((out) => { process.stdout.write(JSON.stringify(out) + '\n'); })
  .catch((err) => { process.stderr.write(String(err && err.stack || err) + '\n'); process.exit(1); });
