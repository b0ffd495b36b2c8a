// Package guest holds the rule for Backstage's development-only guest provider
// (auth.providers.guest). The guest provider is a proxy provider: it has no IdP, no
// start/callback and no logout, and its refresh route signs in a fixed user. Those
// routes live in authbackend; the configuration is decoded by the config package
// (config.GuestConfig). This package only says whether it may be used at all.
package guest
