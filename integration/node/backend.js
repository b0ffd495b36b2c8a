// A real Backstage Node backend for the e2e tests, from the pinned npm packages.
//
//   E2E_BACKEND_MODE=catalog (default): @backstage/plugin-catalog-backend and a tiny
//     `whoami` plugin, and NO auth plugin: discovery (in the --config files the Go test
//     writes) points `auth` at our Go server, exactly what an operator does after
//     removing @backstage/plugin-auth-backend from packages/backend.
//   E2E_BACKEND_MODE=auth: the stock @backstage/plugin-auth-backend with the guest
//     provider, for the migration test (shares a PostgreSQL database with our server).
//   E2E_BACKEND_MODE=auth-modules: the stock auth backend, the guest provider and the
//     provider modules named in E2E_AUTH_MODULES (comma-separated package suffixes:
//     `github`, `bitbucket-server`, `oauth2-proxy`, ... for
//     @backstage/plugin-auth-backend-module-<name>-provider; `all` = every one in
//     package.json). A module only builds a provider that has config under
//     auth.providers, except azure-easyauth, which refuses to start unless the
//     WEBSITE_* variables of Azure App Service are set (see PROVIDERS.md §3.5).
//   E2E_BACKEND_MODE=mcp: catalog + whoami + @backstage/plugin-mcp-actions-backend with
//     NO auth plugin: its /.well-known/oauth-* documents and token checks go through
//     discovery to whatever `auth` points at (our Go server).
//
// E2E_BACKEND_EXTRA adds features to any mode (comma-separated: catalog, whoami, auth,
// mcp-actions), e.g. E2E_BACKEND_MODE=auth-modules E2E_BACKEND_EXTRA=catalog,mcp-actions
// is the all-Node reference for a differential authorization-server test.
//
// Config comes from `--config FILE` arguments, read by backend-defaults itself.
'use strict';

const { createBackend } = require('@backstage/backend-defaults');
const { createBackendPlugin, coreServices } = require('@backstage/backend-plugin-api');

// GET /api/whoami/ownership answers {userEntityRef, ownershipEntityRefs} for the
// calling user through coreServices.userInfo. Our tokens carry no `ent` claim, so the
// userInfo service has to fetch it from <auth>/v1/userinfo: this is the check that
// Backstage plugins see the user's ownership when our server issues the tokens.
const whoamiPlugin = createBackendPlugin({
  pluginId: 'whoami',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        userInfo: coreServices.userInfo,
        logger: coreServices.logger,
      },
      async init({ httpRouter, httpAuth, userInfo, logger }) {
        httpRouter.use(async (req, res, next) => {
          if (req.method !== 'GET' || req.path !== '/ownership') {
            next();
            return;
          }
          try {
            const credentials = await httpAuth.credentials(req, { allow: ['user'] });
            const info = await userInfo.getUserInfo(credentials);
            logger.info(`whoami ${info.userEntityRef}`);
            res.json({
              userEntityRef: info.userEntityRef,
              ownershipEntityRefs: info.ownershipEntityRefs,
            });
          } catch (err) {
            next(err);
          }
        });
      },
    });
  },
});

const list = value => (value || '').split(',').map(v => v.trim()).filter(Boolean);

// Provider module names are the package suffixes present in package.json, so a typo
// fails here with the list instead of deep inside require().
const modulePrefix = '@backstage/plugin-auth-backend-module-';
const knownModules = Object.keys(require('./package.json').dependencies)
  .filter(name => name.startsWith(modulePrefix) && name.endsWith('-provider'))
  .map(name => name.slice(modulePrefix.length, -'-provider'.length))
  .filter(name => name !== 'guest');

function authModules() {
  const names = list(process.env.E2E_AUTH_MODULES);
  const wanted = names.includes('all') ? knownModules : names;
  const unknown = wanted.filter(name => !knownModules.includes(name));
  if (unknown.length > 0) {
    fail(`unknown E2E_AUTH_MODULES ${unknown.join(', ')} (known: all, ${knownModules.join(', ')})`);
  }
  return wanted.map(name => `${modulePrefix}${name}-provider`);
}

const features = {
  catalog: () => ['@backstage/plugin-catalog-backend'],
  whoami: () => [whoamiPlugin],
  auth: () => ['@backstage/plugin-auth-backend', `${modulePrefix}guest-provider`],
  'mcp-actions': () => ['@backstage/plugin-mcp-actions-backend'],
};
const modes = {
  catalog: () => ['catalog', 'whoami'],
  auth: () => ['auth'],
  'auth-modules': () => ['auth'],
  mcp: () => ['catalog', 'whoami', 'mcp-actions'],
};

function fail(message) {
  console.error(`backend.js: ${message}`);
  process.exit(2);
}

const mode = process.env.E2E_BACKEND_MODE || 'catalog';
if (!modes[mode]) {
  fail(`unknown E2E_BACKEND_MODE ${JSON.stringify(mode)} (${Object.keys(modes).join(', ')})`);
}
const extra = list(process.env.E2E_BACKEND_EXTRA);
for (const name of extra) {
  if (!features[name]) {
    fail(`unknown E2E_BACKEND_EXTRA ${JSON.stringify(name)} (${Object.keys(features).join(', ')})`);
  }
}
const parts = [...new Set([...modes[mode](), ...extra])].flatMap(name => features[name]());
if (mode === 'auth-modules') {
  parts.push(...authModules());
} else if (process.env.E2E_AUTH_MODULES) {
  fail('E2E_AUTH_MODULES needs E2E_BACKEND_MODE=auth-modules');
}

const backend = createBackend();
for (const part of new Set(parts)) {
  backend.add(typeof part === 'string' ? require(part) : part);
}
console.log(`backend.js: mode ${mode}: ${[...new Set(parts)].map(p => (typeof p === 'string' ? p : 'whoami')).join(' ')}`);
backend.start().catch(err => {
  console.error('backend failed to start:', err);
  process.exit(1);
});
