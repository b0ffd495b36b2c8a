// @backstage/cli-module-auth's `auth login` (its own command code, with --noBrowser)
// against our server, the browser part scripted; then `auth print-token` after the
// access token is marked expired, which refreshes through /v1/token. Used by
// integration/e2e TestBackstageCLILogin.
//
// Env: BACKEND_URL, USER_TOKEN (approves the consent); XDG_CONFIG_HOME and
// XDG_DATA_HOME point at a scratch directory (the CLI's instance and secret files).
// Prints one JSON line.
const dist = '@backstage/cli-module-auth/dist';
const login = require(`${dist}/commands/login.cjs.js`).default;
const printToken = require(`${dist}/commands/printToken.cjs.js`).default;
const storage = require(`${dist}/lib/storage.cjs.js`);

const { BACKEND_URL, USER_TOKEN } = process.env;
const out = {};
const realWrite = process.stdout.write.bind(process.stdout);
let captured = '';
let onURL;
const urlSeen = new Promise(r => { onURL = r; });
process.stdout.write = (chunk, ...rest) => {
  captured += String(chunk);
  const m = captured.match(/Open this URL to continue: (\S+)/);
  if (m) onURL(m[1]);
  return true;
};

(async () => {
  try {
    const done = login({ args: ['--backendUrl', BACKEND_URL, '--noBrowser'], info: { usage: 'auth login' } });
    const authorizeURL = await urlSeen;
    out.authorizeURL = authorizeURL;
    const a = await fetch(authorizeURL, { redirect: 'manual' });
    const sessionId = (a.headers.get('location') ?? '').split('/oauth2/authorize/')[1];
    const s = await fetch(`${BACKEND_URL}/api/auth/v1/sessions/${sessionId}`);
    out.session = await s.json();
    const ap = await fetch(`${BACKEND_URL}/api/auth/v1/sessions/${sessionId}/approve`, { method: 'POST', headers: { Authorization: `Bearer ${USER_TOKEN}` } });
    const { redirectUrl } = await ap.json();
    out.redirectUrl = redirectUrl;
    const cb = await fetch(redirectUrl); // the CLI's callback server on 127.0.0.1:8055
    out.callback = await cb.text();
    await done;
    out.loginOutput = captured.includes('Login successful');
    const name = new URL(BACKEND_URL).host;
    const inst = await storage.getInstanceByName(name);
    out.clientId = inst.clientId;
    await storage.upsertInstance({ ...inst, accessTokenExpiresAt: 0 });
    captured = '';
    await printToken({ args: ['--instance', name], info: { usage: 'auth print-token' } });
    out.refreshedToken = captured.trim();
    const ui = await fetch(`${BACKEND_URL}/api/auth/v1/userinfo`, { headers: { Authorization: `Bearer ${out.refreshedToken}` } });
    out.userinfoStatus = ui.status;
    out.userinfo = await ui.json();
  } catch (e) {
    out.error = String(e?.stack ?? e);
  }
  realWrite(JSON.stringify(out) + '\n');
  process.exit(0);
})();
