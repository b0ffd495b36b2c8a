// Package providers is the seam between the OAuth route handlers (authbackend) and an
// identity provider. A Provider starts a sign-in, verifies the callback, refreshes and
// logs out; it knows nothing of Backstage tokens, cookies or the catalog. Subpackages:
// oidc (generic OpenID Connect, Backstage's oidc module keys), spectrocloud (Palette,
// built on oidc, TeraSky's keys), guest (the development-only guest provider's config),
// and mockpalette (a Palette-shaped IdP for tests and demos).
package providers
