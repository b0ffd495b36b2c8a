// Minimal Backstage frontend sign-in for the e2e browser test: the real
// @backstage/core-app-api OAuth2 client (DefaultAuthConnector, popup and redirect
// flows, RefreshingAuthSessionManager) for provider `spectrocloud`, talking to the
// auth backend found through a UrlPatternDiscovery. Settings come from ./config.json,
// served by the Go test next to this bundle:
//   {"discoveryPattern": "http://127.0.0.1:PORT/api/{{pluginId}}"}
// `?flow=redirect` in the page URL turns on enableExperimentalRedirectFlow;
// `?provider=github` or `?provider=microsoft` uses the real GithubAuth / MicrosoftAuth
// client instead of OAuth2 for spectrocloud (same discovery and request wiring).
// State is mirrored to window.__e2e and to the DOM for browser-test.mjs.
import {
  ConfigReader,
  GithubAuth,
  MicrosoftAuth,
  OAuth2,
  OAuthRequestManager,
  UrlPatternDiscovery,
} from '@backstage/core-app-api';

const $ = id => document.getElementById(id);
const state = (window.__e2e = { status: 'loading', identity: null, error: null, log: [] });

function set(status, extra = {}) {
  Object.assign(state, { status, ...extra });
  state.log.push(status + (extra.error ? `: ${extra.error}` : ''));
  $('status').textContent = status;
  $('identity').textContent = state.identity ? JSON.stringify(state.identity, null, 2) : '';
  $('error').textContent = state.error || '';
}

async function main() {
  const settings = await (await fetch('./config.json', { cache: 'no-store' })).json();
  const query = new URLSearchParams(window.location.search);
  const redirect = query.get('flow') === 'redirect';
  const provider = query.get('provider') || 'spectrocloud';
  const discoveryApi = UrlPatternDiscovery.compile(settings.discoveryPattern);
  const configApi = new ConfigReader({ enableExperimentalRedirectFlow: redirect });
  const wiring = { configApi, discoveryApi, oauthRequestApi: new OAuthRequestManager(), environment: 'development' };
  const vendorClients = { github: GithubAuth, microsoft: MicrosoftAuth };
  const auth = vendorClients[provider]
    ? vendorClients[provider].create(wiring)
    : OAuth2.create({
        ...wiring,
        provider: { id: 'spectrocloud', title: 'SpectroCloud', icon: () => null },
        defaultScopes: ['openid', 'profile', 'email'],
      });
  state.provider = provider;
  state.flow = redirect ? 'redirect' : 'popup';
  state.authBaseUrl = await discoveryApi.getBaseUrl('auth');
  $('flow').textContent = state.flow;
  $('origin').textContent = window.location.origin;
  $('authbase').textContent = state.authBaseUrl;

  const show = async opts => {
    const bi = await auth.getBackstageIdentity(opts);
    if (!bi) {
      set('signed-out', { identity: null, token: null });
      return;
    }
    const profile = await auth.getProfile({ optional: true });
    // The vendor's access token, as a page would call the vendor's API with it.
    const accessToken = await auth.getAccessToken(undefined, { optional: true });
    set('signed-in', { identity: bi.identity, token: bi.token, profile, accessToken, error: null });
  };

  $('signin').addEventListener('click', () => {
    set('signing-in');
    // instantPopup: the click is the user gesture the popup needs (or, in the
    // redirect flow, this navigates to /start and the page comes back signed in).
    show({ instantPopup: true }).catch(e => set('error', { error: `${e.name}: ${e.message}` }));
  });
  $('signout').addEventListener('click', () => {
    auth
      .signOut()
      .then(() => set('signed-out', { identity: null, token: null, profile: null, accessToken: null }))
      .catch(e => set('error', { error: `${e.name}: ${e.message}` }));
  });

  // On load the session manager tries /refresh (the refresh cookie) before anything else.
  try {
    await show({ optional: true });
  } catch (e) {
    set('signed-out', { error: `${e.name}: ${e.message}` });
  }
}

main().catch(e => set('error', { error: `${e.name}: ${e.message}` }));
