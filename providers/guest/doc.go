// Package guest is Backstage's development-only guest provider (auth.providers.guest),
// registered as a proxy-style provider: no IdP, no start/callback and no logout; its
// /refresh signs in one configured user (from the catalog when the entity exists
// there, else with the configured ownership), and outside development only when
// dangerouslyAllowOutsideDevelopment is set.
package guest
