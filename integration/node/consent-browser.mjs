// The demo's consent page in Debian's headless Chromium (playwright-core): open
// /v1/authorize, land on /oauth2/authorize/<session>, sign in through the popup (mock
// Palette), click Approve and follow the redirect to the client's callback. Prints one
// JSON object for integration/e2e TestBrowserConsentPage.
//
// Usage: node consent-browser.mjs '{"authorizeUrl":"…","callbackPrefix":"http://127.0.0.1:P/callback"}'
import { chromium } from 'playwright-core';

const opts = JSON.parse(process.argv[2] || '{}');
const out = { steps: [], pageErrors: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 30000,
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on('pageerror', e => out.pageErrors.push(String(e).slice(0, 500)));
  await page.goto(opts.authorizeUrl);
  out.consentUrl = page.url();
  await page.waitForFunction(() => document.getElementById('client').textContent !== '…');
  out.client = await page.textContent('#client');
  out.scope = await page.textContent('#scope');
  out.redirectHost = await page.textContent('#redirect');
  out.steps.push('loaded');
  await page.waitForSelector('#signin:not([disabled])');
  await Promise.all([page.waitForEvent('popup'), page.click('#signin')]);
  await page.waitForSelector('#approve:not([disabled])');
  out.status = await page.textContent('#status');
  out.steps.push('signed-in');
  await Promise.all([page.waitForURL(u => String(u).startsWith(opts.callbackPrefix)), page.click('#approve')]);
  out.finalUrl = page.url();
  out.steps.push('approved');
} catch (e) {
  out.error = String(e?.stack ?? e).slice(0, 2000);
}
await browser.close();
process.stdout.write(JSON.stringify(out) + '\n');
