// Package providertest is the provider conformance kit: RunConformance drives a
// providers.Provider through sign-in, every ID-token fault, IdP errors, timeouts, key
// rotation, refresh and logout against the mock IdP (providers/mockpalette) in the
// personality the harness targets. The OpenID Connect checks hold for any standard IdP
// and run for both personalities (oidc runs them against the generic one); the Palette
// checks (its HS256 session token) run only for a harness that targets Palette
// (spectrocloud). Flow runs one sign-in for provider-specific tests; Catalog and User
// are an in-memory catalog for testing a provider's own sign-in resolvers. It is a
// separate package so that the mock's binary does not link testing.
package providertest
