// Package authbackend is the HTTP surface of the auth backend: a gin engine that
// answers like Backstage's @backstage/plugin-auth-backend mounted at /api/auth, plus
// the framework's health routes. It owns routing, error responses, security headers,
// CORS, the OAuth route handlers (state, cookies, origin checks) and sign-in
// resolution; identity providers (package providers, built by its registry and served
// here by kind, never by id) only talk to their IdP; the token issuer and key sets and
// the resolvers are interfaces handed in by cmd.
//
// Subpackages: oauthstate (Backstage's hex-encoded state), origins (allowed-origin and
// redirect checks, minimatch globs) and cookies (cookie jar and the sealer that
// encrypts and authenticates the refresh cookie).
//
// # Request flow
//
// Every request passes, in order: request logging (Debug), panic recovery (500 error
// JSON, never a stack), helmet's headers (computed once in New), CORS when
// backend.cors is configured (preflights answered there), then the route. Requests no
// route matches get Express's automatic OPTIONS answer for paths that exist, else the
// auth router's catch-all 404 "Unknown auth provider '<segment>'" (or "No auth
// provider registered for '<id>'" for a registered provider that is not configured),
// else an empty 404. All errors become HTTP in one place (writeError): Backstage's
// error JSON with the status its class maps to; errors that are not Backstage errors
// are logged under a logId and answered as "An internal error occurred logId=<id>".
// Every JSON body and the popup page's payload are encoded by internal/jsrules.Marshal
// (JSON.stringify's bytes, so the page's CSP hash is Node's); origin patterns,
// here and for CORS, are internal/jsrules' minimatch via package origins.
//
// Sign-in (popup flow):
//
//  1. GET /<p>/start?scope&origin&flow=popup&env: the environment is selected, the
//     origin (and, for the redirect flow, redirectUrl) checked against app.baseUrl
//     and auth.experimentalExtraAllowedOrigins, a random nonce set in the <p>-nonce
//     cookie and in the state, and the browser sent (302) to the provider's
//     authorization URL. The OIDC nonce and PKCE verifier are derived from the state
//     nonce with the server's secret (FlowSecrets), so nothing is stored server-side.
//  2. GET|POST /<p>/handler/frame?code&state: the state is decoded, its origin and
//     redirectUrl re-checked, the nonce cookie compared with the state's nonce in
//     constant time, the code exchanged by the provider, the sign-in resolved and a
//     Backstage token issued. The refresh cookie is set only when all of that
//     succeeded: it is the provider's session, sealed (encrypted and authenticated,
//     bound to provider and env) with auth.session.secret. The answer is a page that
//     posts {type:"authorization_response", response|error} to the app origin, under
//     a CSP allowing only that script; the redirect flow answers 302 instead.
//  3. GET|POST /<p>/refresh (X-Requested-With: XMLHttpRequest): the sealed cookie is
//     opened (anything that does not open is refused, never parsed), its session id
//     checked against the revoked set in memory (Options.Sessions), the provider
//     refreshes, the resolver runs again and a fresh token is issued. Every failure is
//     401 "Refresh failed; caused by ...", except an IdP outage (503).
//  4. POST /<p>/logout: X-Requested-With and Origin checks, the session revoked on
//     every replica, provider logout, cookies cleared.
//
// With Options.Sessions the callback records a server-side session (sessions.go) and
// seals its id into the refresh cookie; POST /v1/offline-sessions/revoke, for service
// credentials (backend.auth.externalAccess) only, ends every session of a user.
//
// Proxy providers (guest, and those behind an authenticating proxy) serve only
// GET|POST /<p>/refresh: the request is authenticated, resolved and issued a token every
// time; /start and /handler/frame answer 501. The well-known routes serve the openid-configuration document and the user and plugin
// key sets from memory; /v1/userinfo verifies a user token and returns its stored
// claims. An optional demo page at "/" speaks the same popup protocol (and, with the
// authorization server, a consent page at /oauth2/authorize/:sessionId).
//
// # Authorization server
//
// Options.AuthorizationServer (package authserver, wired by cmd) adds its routes
// (/v1/authorize, /v1/sessions/:id, /v1/token, /v1/revoke, ...) through Mount and the
// discovery document's dependent fields through DiscoveryFields; when it is enabled
// the document is also served at RFC 8414's /.well-known/oauth-authorization-server.
// The router knows nothing else of it: its handlers write OAuth errors themselves and
// return Backstage errors for writeError.
//
// # Observability
//
// Options.Middleware (request metrics, tracing spans) runs before everything else.
// Every sign-in, refresh, logout and rate-limit refusal is reported to Options.Metrics
// (by configured provider id and a fixed outcome) and Options.Auditor (package audit)
// in observe.go; handlers only mark where an error arose (atStage). Drain makes
// readiness answer 503 once shutdown has begun.
package authbackend
