// Package mockpalette is a Palette-shaped OpenID Connect identity provider for tests,
// demos and cmd/mockpalette. It serves Palette's layout under
// /v1/oidc/tenant/{tenant}/ (.well-known/openid-configuration, auth, token, userinfo,
// keys, revoke), signs RS256 ID tokens, returns Palette's HS256 session JWT as
// refresh_token (or real rotated refresh tokens with Options.RefreshGrant), and can
// misbehave on demand (Fault, SetFault, /_mock/next) to exercise relying parties.
//
// With Options.Personality GenericOIDC it is instead a plain standards-following IdP
// (its own layout, refresh grant, rotating refresh tokens for offline_access,
// revocation, at_hash), so that relying parties can be tested against OpenID Connect
// itself rather than against Palette's quirks.
//
// Typical test use:
//
//	idp := mockpalette.New(mockpalette.Options{})
//	issuer := idp.Start(t) // http://127.0.0.1:<port>/v1/oidc/tenant/t1
//	idp.SetFault(mockpalette.Fault{BadSignature: true})
//
// It is not an IdP to deploy: keys live in memory and clients are not persisted.
package mockpalette
