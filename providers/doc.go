// Package providers is the seam between the route handlers (authbackend) and identity
// providers, and the registry that turns auth.providers config into built providers.
// A provider knows nothing of Backstage tokens, cookies, storage or the catalog.
//
// A provider package registers a Module: its Backstage id, its Kind (OAuth: per
// environment sections and /start, /handler/frame, /refresh, /logout; Proxy: one flat
// section and /refresh only), a typed Config (decoded by config.Decode from struct
// tags, then Validate reports every problem with its path) whose Build returns the
// provider without touching the network, and its own sign-in resolvers beside
// resolvers.Common. The registry reads the framework keys every provider shares
// (callbackUrl, sessionDuration, signIn), decodes everything at once so one report
// lists every problem, and builds. cmd lists the modules, one line each; the router
// serves whatever the registry built, by Kind.
//
// Capabilities: OAuthProvider (Start + Authenticate) or ProxyProvider
// (AuthenticateRequest) is required; Refresher, Logouter, LogoutURLer and Scoper are
// optional and detected at run time, as dex detects its RefreshConnector.
//
// Subpackages: oidc (generic OpenID Connect, Backstage's oidc module keys; vendors built
// on it change its steps through oidc.Overrides), spectrocloud (Palette on oidc with
// TeraSky's keys), guest (the development-only guest provider), mockpalette (a
// Palette-shaped IdP for tests and demos) and providertest (the conformance kit).
package providers
