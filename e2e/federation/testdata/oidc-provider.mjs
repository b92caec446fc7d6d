// Starts npm's oidc-provider (panva's certified OpenID Provider), the
// upstream of the federation tests, on 127.0.0.1 and a port the kernel
// chooses, and prints "oidc-provider listening on <issuer>" once it serves.
//
//   node oidc-provider.mjs <tools dir> <settings.json>
//
// settings.json: { "clients": [client metadata], "accountsFile": path,
// "errorLog": path, "cookieKey": string }. The accounts file maps a login
// to its claims ({"email", "email_verified", "name", "groups"}); it is
// read at every lookup, so the test changes a user's groups or removes
// the user by rewriting it. The login and consent pages are oidc-provider's
// devInteractions: any login with any password signs in as the account of
// that login (a test-only shortcut of the library, never for production).
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [toolsDir, settingsFile] = process.argv.slice(2);
if (!toolsDir || !settingsFile) {
  console.error('usage: node oidc-provider.mjs <tools dir> <settings.json>');
  process.exit(2);
}
const settings = JSON.parse(readFileSync(settingsFile, 'utf8'));

// oidc-provider is installed under tools/node_modules (npm ci --prefix
// tools), not beside this script: resolve it from there.
const require = createRequire(join(toolsDir, 'package.json'));
const { default: Provider } = await import(pathToFileURL(require.resolve('oidc-provider')).href);

// account returns the claims of login, or undefined when the accounts file
// no longer lists it (a user removed upstream).
function account(login) {
  const accounts = JSON.parse(readFileSync(settings.accountsFile, 'utf8'));
  return Object.hasOwn(accounts, login) ? accounts[login] : undefined;
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: settings.clients,
    cookies: { keys: [settings.cookieKey] },
    // Each key is a scope releasing its claims (groups is Dex's scope).
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access'],
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
    },
    // PKCE for every client, confidential ones too (RFC 9700 §2.1.1).
    pkce: { required: () => true },
    // A refresh token when the client may refresh and offline_access was
    // granted (OpenID Connect Core §11): the library's rule, stated here.
    async issueRefreshToken(_ctx, client, code) {
      return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
    },
    async findAccount(_ctx, id) {
      const claims = account(id);
      if (claims === undefined) return undefined;
      return { accountId: id, async claims() { return { ...claims, sub: id }; } };
    },
  });
  // Server errors go to a file the test prints (the launcher keeps only
  // the startup output).
  provider.on('server_error', (_ctx, err) => appendFileSync(settings.errorLog, `server_error: ${err.stack}\n`));
  server.on('request', provider.callback());
  console.log(`oidc-provider listening on ${issuer}`);
});

// The test stops the server with SIGTERM.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
