// The Model Context Protocol TypeScript SDK's OAuth client (auth() from
// @modelcontextprotocol/sdk/client/auth.js) against our authorization server, with a
// scripted consent: used by integration/e2e TestMCPSDKAuthFlow.
//
// Env: AUTH_BASE (…/api/auth), CLIENT_ID (an https client metadata URL), USER_TOKEN (a
// Backstage user token that approves the consent), REDIRECT_URI. It plays the MCP
// server too: a loopback HTTP server answering RFC 9728 protected-resource metadata
// that names AUTH_BASE as the authorization server, as an MCP server in front of
// Backstage does. Prints one JSON line with what happened.
import http from 'node:http';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';

const { AUTH_BASE, CLIENT_ID, USER_TOKEN, REDIRECT_URI } = process.env;

const resource = http.createServer((req, res) => {
  if (req.url.startsWith('/.well-known/oauth-protected-resource')) {
    const self = `http://127.0.0.1:${resource.address().port}/mcp`;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ resource: self, authorization_servers: [AUTH_BASE], scopes_supported: ['openid', 'offline_access'] }));
    return;
  }
  res.statusCode = 404;
  res.end();
});
await new Promise(r => resource.listen(0, '127.0.0.1', r));
const serverUrl = `http://127.0.0.1:${resource.address().port}/mcp`;

let clientInfo, tokens, verifier, authorizationUrl;
const provider = {
  get redirectUrl() { return REDIRECT_URI; },
  get clientMetadata() {
    return { client_name: 'e2e MCP client', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'openid offline_access' };
  },
  clientMetadataUrl: CLIENT_ID,
  state: () => 'e2e-state',
  clientInformation: () => clientInfo,
  saveClientInformation: i => { clientInfo = i; },
  tokens: () => tokens,
  saveTokens: t => { tokens = t; },
  redirectToAuthorization: u => { authorizationUrl = u; },
  saveCodeVerifier: v => { verifier = v; },
  codeVerifier: () => verifier,
};

const out = {};
try {
  out.first = await auth(provider, { serverUrl });
  out.authorizationUrl = String(authorizationUrl);
  // The browser part, scripted: /v1/authorize sends it to the app's consent page.
  const a = await fetch(authorizationUrl, { redirect: 'manual' });
  const consent = a.headers.get('location') ?? '';
  out.authorizeStatus = a.status;
  const sessionId = consent.split('/oauth2/authorize/')[1];
  const s = await fetch(`${AUTH_BASE}/v1/sessions/${sessionId}`);
  out.session = await s.json();
  const ap = await fetch(`${AUTH_BASE}/v1/sessions/${sessionId}/approve`, { method: 'POST', headers: { Authorization: `Bearer ${USER_TOKEN}` } });
  const { redirectUrl } = await ap.json();
  const cb = new URL(redirectUrl);
  out.state = cb.searchParams.get('state');
  out.second = await auth(provider, { serverUrl, authorizationCode: cb.searchParams.get('code') });
  out.tokenType = tokens.token_type;
  out.scope = tokens.scope;
  const firstRefresh = tokens.refresh_token;
  out.hasRefresh = !!firstRefresh;
  const ui = await fetch(`${AUTH_BASE}/v1/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  out.userinfo = await ui.json();
  // With a refresh token stored, auth() refreshes.
  out.third = await auth(provider, { serverUrl });
  out.rotated = !!tokens.refresh_token && tokens.refresh_token !== firstRefresh;
  // The rotated-away token is refused (and burns the session).
  const replay = await fetch(`${AUTH_BASE}/v1/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: firstRefresh, client_id: CLIENT_ID }) });
  out.replay = { status: replay.status, body: await replay.json() };
} catch (e) {
  out.error = String(e?.stack ?? e);
}
console.log(JSON.stringify(out));
resource.close();
