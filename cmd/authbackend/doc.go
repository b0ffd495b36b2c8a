// Command authbackend is the auth server: Backstage's /api/auth routes, configured by
// the same app-config.yaml files as the Node backend.
//
//	authbackend [--config FILE ...] [--log-level debug|info|warn|error]
//	authbackend validate [--config FILE ...]
//
// validate loads and validates the configuration and builds every provider and
// sign-in resolver without contacting any IdP, database or catalog server, prints
// every problem with its path and file (or "configuration is valid" and a summary) and
// exits non-zero on any problem. The provider modules built in are listed in
// modules.go, one line each.
//
// With no --config it reads app-config.yaml, app-config.<BACKSTAGE_ENV>.yaml,
// app-config.local.yaml and app-config.<BACKSTAGE_ENV>.local.yaml from the working
// directory, as Backstage does. NODE_ENV=development is Backstage's development mode.
package main
