// Package store defines what the authorization server (package authserver) keeps in
// the auth plugin database: the rows of Backstage's oauth_authorization_sessions,
// oidc_authorization_codes and offline_sessions tables and one small interface per
// table. It is a leaf: package authdb implements the interfaces on SQLite and
// PostgreSQL, and authserver consumes them.
//
// The operations that must not race are single conditional statements (compare and
// swap) rather than read-then-write: deciding a pending session, redeeming an unused
// code and rotating a refresh-token hash each report whether this caller won.
package store
