// Package e2e holds the end-to-end tests that prove authbackend is a drop-in for
// @backstage/plugin-auth-backend against the real Backstage packages from npm (pinned
// in ../node/package-lock.json): a stock Node backend with the catalog and no auth
// plugin, the real core-app-api sign-in in headless Chromium (cross-origin and behind
// the nginx route of examples/nginx), and a shared PostgreSQL database with the Node
// auth backend.
//
// Provider tests run the stock Node auth backend with real provider modules
// (backend.js E2E_BACKEND_MODE=auth-modules, E2E_AUTH_MODULES=github,...) and our
// server side by side inside a ../vendornet namespace, where the vendor hosts the
// modules hard-code (github.com, ...) are the test's own TLS mock: set procSpec.netns
// and serve the mock with vn.Listen443. TestVendorNetChain is the smallest example.
//
// They are skipped unless AUTHBACKEND_E2E=1; then every missing tool is a failure.
// Run: AUTHBACKEND_E2E=1 go test ./integration/e2e/ -v
// (AUTHBACKEND_TEST_PG_DSN enables the PostgreSQL migration test.) The tests run
// ../node/install.sh (apt chromium+nginx, npm ci into a cache keyed by the lockfile)
// and build cmd/authbackend and cmd/mockpalette themselves. Logs and screenshots go to
// integration/artifacts/ (gitignored).
package e2e
