// Package providertest is the provider conformance kit: RunConformance drives a
// providers.Provider through sign-in, every ID-token fault, IdP errors, timeouts, key
// rotation and refresh against the mock Palette IdP (providers/mockpalette), and Flow
// runs one sign-in for provider-specific tests. The oidc and spectrocloud packages both
// run it. It is a separate package so that the mock's binary does not link testing.
package providertest
