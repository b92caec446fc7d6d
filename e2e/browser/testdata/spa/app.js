// The test SPA: OpenID Connect authorization code flow with PKCE (S256) for
// a public client, and RP-Initiated Logout, in plain JavaScript. SPA (from
// config.js) holds issuer, clientID, redirectURI, scope and
// postLogoutRedirectURI. Progress and errors go into the page:
// body[data-state] is "ready", "working", "done", "held" or "error", #error
// holds what went wrong, and body[data-oauth-error] the error code of an
// authorization error response (login_required, consent_required, …).
//
// sessionStorage (per origin and tab) holds the login in progress ("oidc"),
// the ID token of the signed-in user ("id_token", the logout's
// id_token_hint) and the logout in progress ("logout").
'use strict';

function show(id, text) {
  document.getElementById(id).textContent = text;
}

function fail(err) {
  show('error', String(err && err.stack ? err.message : err));
  document.body.dataset.state = 'error';
}

function base64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64urlDecode(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, c => c.charCodeAt(0));
}

function randomString(n) {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return base64url(bytes);
}

async function sha256(text) {
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
}

// getJSON fetches a JSON document cross-origin (CORS) and fails with the
// status and the OAuth error when the answer is not 2xx.
async function getJSON(what, url, init) {
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (e) {
    throw new Error(what + ': ' + e.message + ' (a CORS error shows as a network error)');
  }
  let body = null;
  try { body = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) {
    const detail = body && body.error ? body.error + ': ' + (body.error_description || '') : '';
    throw new Error(what + ': HTTP ' + resp.status + ' ' + detail);
  }
  return body;
}

async function discover() {
  const d = await getJSON('discovery', SPA.issuer + '/.well-known/openid-configuration');
  if (d.issuer !== SPA.issuer) throw new Error('discovery: issuer ' + d.issuer + ', want ' + SPA.issuer);
  return d;
}

// signIn starts the authorization code flow with PKCE, keeping the
// verifier, state and nonce in sessionStorage for the callback. opts.hold
// makes the callback stop at the code; opts.prompt is sent as prompt.
//
// The browser goes to the authorization endpoint by a top-level navigation,
// for a silent sign-in (prompt=none) too. The provider's session cookie is
// SameSite=Lax: a browser sends it on a top-level GET navigation from
// another site, but not on a request from a frame that another site embeds.
// opts.frame makes that request from a hidden iframe instead, only to show
// that it does not work; the callback then reports to this page.
async function signIn(opts) {
  document.body.dataset.state = 'working';
  show('status', 'Reading the discovery document…');
  const d = await discover();
  const verifier = randomString(32);
  const challenge = base64url(await sha256(verifier));
  const state = randomString(16);
  const nonce = randomString(16);
  sessionStorage.setItem('oidc', JSON.stringify({verifier, state, nonce, hold: !!(opts && opts.hold)}));
  const url = new URL(d.authorization_endpoint);
  const params = new URLSearchParams({
    client_id: SPA.clientID,
    redirect_uri: SPA.redirectURI,
    response_type: 'code',
    scope: SPA.scope,
    state: state,
    nonce: nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  if (opts && opts.prompt) params.set('prompt', opts.prompt);
  url.search = params.toString();
  if (opts && opts.frame) {
    signInInFrame(url.toString());
    return;
  }
  location.assign(url.toString());
}

// signInInFrame loads the authorization URL in a hidden iframe and shows
// what its callback reports (see reportToParent) as this page's result.
function signInInFrame(url) {
  show('status', 'Waiting for the silent sign-in in a hidden iframe…');
  window.addEventListener('message', (ev) => {
    if (ev.origin !== location.origin || !ev.data || ev.data.type !== 'callback') return;
    show('email', ev.data.email);
    show('error', ev.data.error);
    if (ev.data.oauthError) document.body.dataset.oauthError = ev.data.oauthError;
    document.body.dataset.state = ev.data.state;
  });
  const frame = document.createElement('iframe');
  frame.id = 'silent';
  frame.hidden = true;
  frame.src = url;
  document.body.appendChild(frame);
}

// reportToParent sends the callback's result to the page that framed it,
// on this origin only.
function reportToParent() {
  if (window.parent === window) return;
  window.parent.postMessage({
    type: 'callback',
    state: document.body.dataset.state,
    email: document.getElementById('email').textContent,
    error: document.getElementById('error').textContent,
    oauthError: document.body.dataset.oauthError || '',
  }, location.origin);
}

// callback checks the authorization response (state, then iss: RFC 9207),
// redeems the code with the verifier, verifies the ID token with the
// published keys, and calls userinfo with the access token.
async function callback() {
  const q = new URLSearchParams(location.search);
  history.replaceState(null, '', location.pathname); // the code leaves the address bar
  const saved = JSON.parse(sessionStorage.getItem('oidc') || 'null');
  sessionStorage.removeItem('oidc');
  if (!saved) throw new Error('no login in progress (nothing in sessionStorage)');
  if (q.get('state') !== saved.state) throw new Error('state mismatch');
  if (q.get('iss') !== SPA.issuer) throw new Error('iss mismatch: got ' + q.get('iss') + ', want ' + SPA.issuer);
  if (q.has('error')) {
    document.body.dataset.oauthError = q.get('error');
    throw new Error('authorization error: ' + q.get('error') + ': ' + (q.get('error_description') || ''));
  }
  const code = q.get('code');
  if (!code) throw new Error('no code in the authorization response');
  if (saved.hold) {
    show('held', JSON.stringify({code: code, verifier: saved.verifier}));
    document.body.dataset.state = 'held';
    return;
  }

  show('status', 'Redeeming the code…');
  const d = await discover();
  const tokens = await getJSON('token', d.token_endpoint, {
    method: 'POST',
    headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code,
      redirect_uri: SPA.redirectURI,
      client_id: SPA.clientID,
      code_verifier: saved.verifier,
    }).toString(),
  });
  if (tokens.token_type.toLowerCase() !== 'bearer') throw new Error('token_type ' + tokens.token_type);
  const claims = await verifyIDToken(d, tokens.id_token, saved.nonce);

  show('status', 'Calling userinfo…');
  const info = await getJSON('userinfo', d.userinfo_endpoint, {
    headers: {'Authorization': 'Bearer ' + tokens.access_token},
  });
  if (info.sub !== claims.sub) throw new Error('userinfo sub ' + info.sub + ' differs from the ID token sub ' + claims.sub);
  window.spaResult = {access_token: tokens.access_token, id_token: claims, userinfo: info};
  sessionStorage.setItem('id_token', tokens.id_token);
  show('email', info.email);
  show('status', 'Signed in.');
  document.body.dataset.state = 'done';
}

const algorithms = {
  RS256: {import: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, verify: {name: 'RSASSA-PKCS1-v1_5'}},
  ES256: {import: {name: 'ECDSA', namedCurve: 'P-256'}, verify: {name: 'ECDSA', hash: 'SHA-256'}},
};

// verifyIDToken checks the signature with the key from jwks_uri (fetched
// with CORS) and the claims of OpenID Connect Core §3.1.3.7.
async function verifyIDToken(d, jwt, nonce) {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Error('the ID token is not a JWS');
  const header = JSON.parse(new TextDecoder().decode(base64urlDecode(parts[0])));
  const alg = algorithms[header.alg];
  if (!alg) throw new Error('ID token alg ' + header.alg);
  const jwks = await getJSON('jwks', d.jwks_uri);
  const jwk = jwks.keys.find(k => k.kid === header.kid);
  if (!jwk) throw new Error('no key ' + header.kid + ' in the JWKS');
  const key = await crypto.subtle.importKey('jwk', jwk, alg.import, false, ['verify']);
  const ok = await crypto.subtle.verify(alg.verify, key, base64urlDecode(parts[2]),
    new TextEncoder().encode(parts[0] + '.' + parts[1]));
  if (!ok) throw new Error('the ID token signature does not verify');
  const claims = JSON.parse(new TextDecoder().decode(base64urlDecode(parts[1])));
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== SPA.issuer) throw new Error('ID token iss ' + claims.iss);
  if (!aud.includes(SPA.clientID)) throw new Error('ID token aud ' + claims.aud);
  if (claims.nonce !== nonce) throw new Error('ID token nonce mismatch');
  if (!(claims.exp * 1000 > Date.now())) throw new Error('ID token expired');
  return claims;
}

// signOut sends the browser to the end_session_endpoint from discovery
// (OpenID Connect RP-Initiated Logout 1.0 §2) with the ID token as
// id_token_hint, which ties the request to the provider's session, the
// registered post_logout_redirect_uri, and a fresh state kept for
// loggedOut.
async function signOut() {
  document.body.dataset.state = 'working';
  const idToken = sessionStorage.getItem('id_token');
  if (!idToken) throw new Error('not signed in: no ID token in sessionStorage');
  show('status', 'Reading the discovery document…');
  const d = await discover();
  if (!d.end_session_endpoint) throw new Error('discovery: no end_session_endpoint');
  const state = randomString(16);
  sessionStorage.setItem('logout', state);
  const url = new URL(d.end_session_endpoint);
  url.search = new URLSearchParams({
    id_token_hint: idToken,
    client_id: SPA.clientID,
    post_logout_redirect_uri: SPA.postLogoutRedirectURI,
    state: state,
  }).toString();
  location.assign(url.toString());
}

// loggedOut is the post_logout_redirect_uri: it shows the state it
// received, checks it against the one signOut kept, and forgets the ID
// token.
function loggedOut() {
  const q = new URLSearchParams(location.search);
  const saved = sessionStorage.getItem('logout');
  sessionStorage.removeItem('logout');
  sessionStorage.removeItem('id_token');
  show('state', q.get('state') || '');
  if (!saved) throw new Error('no logout in progress (nothing in sessionStorage)');
  if (q.get('state') !== saved) throw new Error('state mismatch: got ' + q.get('state') + ', want ' + saved);
  show('status', 'Signed out.');
  document.body.dataset.state = 'done';
}
