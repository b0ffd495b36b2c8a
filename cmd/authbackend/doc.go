// Command authbackend is the auth server: Backstage's /api/auth routes, configured by
// the same app-config.yaml files as the Node backend.
//
//	authbackend [--config FILE ...] [--log-level debug|info|warn|error]
//
// With no --config it reads app-config.yaml, app-config.<BACKSTAGE_ENV>.yaml,
// app-config.local.yaml and app-config.<BACKSTAGE_ENV>.local.yaml from the working
// directory, as Backstage does. NODE_ENV=development is Backstage's development mode.
package main
