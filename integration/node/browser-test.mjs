// Drives the sign-in page (page/) in Debian's headless Chromium through playwright-core
// and prints one JSON object on stdout for the Go test (integration/e2e) to assert.
// Nothing here decides pass/fail beyond "a step threw"; the Go side checks values.
//
// Usage: node browser-test.mjs '{"pageUrl":"http://127.0.0.1:P/","screenshotDir":"...",
//          "name":"direct","sameOriginCatalog":false}'
// Optional: "provider" (default spectrocloud; the page must be opened with the same
// ?provider=), "chromiumArgs" (extra flags).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const opts = JSON.parse(process.argv[2] || '{}');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const stepTimeout = Number(opts.stepTimeoutMs || 20000);
const out = { name: opts.name, steps: {}, refreshResponses: [], popupUrls: [], redirectUrls: [], console: [], pageErrors: [], screenshots: [] };
let current = 'launch';

function finish(code) {
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(code);
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  // A fresh temporary profile per launch (playwright's default without userDataDir).
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ...(opts.chromiumArgs || [])],
  timeout: 30000,
});

try {
  out.browserVersion = browser.version();
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  page.setDefaultTimeout(stepTimeout);
  page.on('console', m => out.console.push(`${m.type()}: ${m.text()}`.slice(0, 500)));
  page.on('pageerror', e => out.pageErrors.push(String(e).slice(0, 500)));
  page.on('response', r => {
    if (r.url().includes('/refresh')) {
      out.refreshResponses.push({ step: current, status: r.status(), url: r.url(), acao: r.headers()['access-control-allow-origin'] || null, acac: r.headers()['access-control-allow-credentials'] || null });
    }
  });
  page.on('request', r => {
    let main = false;
    try {
      main = r.isNavigationRequest() && r.frame() === page.mainFrame();
    } catch {}
    if (main) out.redirectUrls.push({ step: current, url: r.url() });
  });

  // Navigations of any page but the main one: the popup. A popup's first request is
  // issued before its frame exists, so frame() may throw for it.
  context.on('request', r => {
    if (!r.isNavigationRequest()) return;
    let owner = null;
    try {
      owner = r.frame().page();
    } catch {}
    if (owner !== page) out.popupUrls.push(r.url());
  });

  const snapshot = () => page.evaluate(() => ({ ...window.__e2e, log: [...window.__e2e.log] }));
  const waitStatus = async (...wanted) => {
    await page.waitForFunction(w => window.__e2e && w.includes(window.__e2e.status), wanted, { timeout: stepTimeout });
    return snapshot();
  };
  const shot = async label => {
    mkdirSync(opts.screenshotDir, { recursive: true });
    const path = join(opts.screenshotDir, `${opts.name}-${label}.png`);
    await page.screenshot({ path, fullPage: true });
    out.screenshots.push(path);
  };
  const fetchStatus = (url, init) =>
    page.evaluate(async ([u, i]) => {
      const r = await fetch(u, i);
      return { status: r.status, body: (await r.text()).slice(0, 300) };
    }, [url, init]);

  // 1. Fresh profile: the page's initial /refresh fails, the user is signed out.
  current = 'initial';
  await page.goto(opts.pageUrl);
  out.steps.initial = await waitStatus('signed-out', 'signed-in', 'error');

  // 2. Popup flow: the click opens the popup, which goes to our /start, the mock
  //    Palette, back to our handler/frame, posts the response and closes.
  current = 'popup';
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#signin')]);
  out.steps.popup = await waitStatus('signed-in', 'error');
  // handler/frame closes the popup 100 ms after posting the response.
  out.popupClosed = popup.isClosed() || (await popup.waitForEvent('close', { timeout: 5000 }).then(() => true, () => popup.isClosed()));
  await shot('signed-in');

  // 3. Same-origin backend route (through nginx): the catalog accepts the token.
  if (opts.sameOriginCatalog && out.steps.popup.token) {
    out.steps.catalog = await fetchStatus('/api/catalog/entities?filter=kind=user', {
      headers: { Authorization: `Bearer ${out.steps.popup.token}` },
    });
  }

  // 4. Reload: core-app-api restores the session through /refresh (refresh cookie,
  //    credentials: include, and CORS when the auth backend is another origin).
  current = 'reload';
  await page.reload();
  out.steps.reload = await waitStatus('signed-in', 'signed-out', 'error');

  // 5. Sign out: POST /logout clears the cookie; a following refresh fails.
  current = 'signout';
  await page.click('#signout');
  out.steps.signout = await waitStatus('signed-out', 'error');
  const authBase = out.steps.signout.authBaseUrl;
  out.steps.refreshAfterSignout = await fetchStatus(`${authBase}/${opts.provider || 'spectrocloud'}/refresh?env=development`, {
    credentials: 'include',
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  current = 'reload-after-signout';
  await page.reload();
  out.steps.reloadAfterSignout = await waitStatus('signed-out', 'signed-in', 'error');

  // 6. Redirect flow (enableExperimentalRedirectFlow): the whole page goes to /start,
  //    the IdP, our handler/frame (302 back to the page), then the page calls /refresh.
  current = 'redirect';
  const redirectPage = new URL(opts.pageUrl);
  redirectPage.searchParams.set('flow', 'redirect');
  await page.goto(redirectPage.toString());
  out.steps.redirectInitial = await waitStatus('signed-out', 'signed-in', 'error');
  // One navigation whose redirect chain is /start -> IdP -> handler/frame -> the page.
  await Promise.all([
    page.waitForNavigation({ url: u => u.origin === redirectPage.origin && u.searchParams.get('flow') === 'redirect' && !u.pathname.includes('/api/'), timeout: stepTimeout }),
    page.click('#signin'),
  ]);
  out.steps.redirect = await waitStatus('signed-in', 'error');
  await shot('redirect-signed-in');
  await context.close();
  out.ok = true;
} catch (err) {
  out.ok = false;
  out.failedStep = current;
  out.error = String(err && err.stack ? err.stack : err).slice(0, 2000);
} finally {
  await browser.close().catch(() => {});
}
finish(0);
