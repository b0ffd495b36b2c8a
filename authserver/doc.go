// Package authserver is the OAuth 2 / OIDC authorization server of Backstage's auth
// backend (@backstage/plugin-auth-backend 0.31's OidcRouter, OidcService,
// OfflineAccessService and CimdClient), through which MCP clients and the Backstage
// CLI obtain Backstage user tokens: /v1/authorize (code flow, PKCE S256 only), the
// consent sessions /v1/sessions/:id (+ approve, reject), /v1/token (authorization_code
// and refresh_token grants), /v1/revoke, /v1/offline-sessions/revoke and the client
// metadata documents under /.well-known/oauth-client/.
//
// Clients are static (auth.staticClients, exact redirect URIs, secrets compared in
// constant time) or Client ID Metadata Documents: an https URL matching
// auth.clientIdMetadataDocuments' allow-list, fetched (cimd.go) with every dialled
// address checked to be public unicast, no redirects, no proxy, 10 s and 64 KiB
// limits, and cached briefly. Documents this server serves itself (the CLI's cli.json
// and configured ones) are resolved from memory.
//
// State lives in Backstage's tables through the interfaces of authserver/store
// (implemented by authdb), so Node and Go replicas can share a database: sessions and
// codes as Node writes them, refresh tokens "<sessionId>.<secret>" stored as
// Backstage's scrypt hash. Where Node races or trusts too much this package is
// strict: a session is decided and a code redeemed by one conditional update each, a
// refresh token rotates by compare and swap, a replayed code or rotated refresh token
// revokes the refresh session, /v1/revoke checks the token's secret and client, and
// token responses carry Cache-Control: no-store.
//
// The router (authbackend) mounts the routes through Mount and takes the discovery
// fields from DiscoveryFields, knowing nothing else of this package; errors a handler
// returns are answered as Backstage's error JSON there, OAuth errors
// ({"error","error_description"}, section 2.3 of BACKSTAGE_AUTH.md) here.
package authserver
