// A real Backstage Node backend for the e2e tests, from the pinned npm packages.
//
//   E2E_BACKEND_MODE=catalog (default): @backstage/plugin-catalog-backend and a tiny
//     `whoami` plugin, and NO auth plugin: discovery (in the --config files the Go test
//     writes) points `auth` at our Go server, exactly what an operator does after
//     removing @backstage/plugin-auth-backend from packages/backend.
//   E2E_BACKEND_MODE=auth: the stock @backstage/plugin-auth-backend with the guest
//     provider, for the migration test (shares a PostgreSQL database with our server).
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

const mode = process.env.E2E_BACKEND_MODE || 'catalog';
const backend = createBackend();
switch (mode) {
  case 'catalog':
    backend.add(require('@backstage/plugin-catalog-backend'));
    backend.add(whoamiPlugin);
    break;
  case 'auth':
    backend.add(require('@backstage/plugin-auth-backend'));
    backend.add(require('@backstage/plugin-auth-backend-module-guest-provider'));
    break;
  default:
    console.error(`unknown E2E_BACKEND_MODE ${JSON.stringify(mode)} (catalog or auth)`);
    process.exit(2);
}
backend.start().catch(err => {
  console.error('backend failed to start:', err);
  process.exit(1);
});
