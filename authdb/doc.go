// Package authdb owns the auth plugin database: connecting to PostgreSQL (pgx) or
// SQLite (modernc.org/sqlite), creating the schema the way the Node backend's knex
// migrations do, and the three tables the Go backend uses:
//
//   - signing_keys (user-token public keys) as a jwks.KeyStore,
//   - backstage_backend_public_keys__keys (plugin service-token public keys, from
//     @backstage/backend-defaults) as a jwks.KeyStore,
//   - user_info as a jwks.UserInfoStore.
//
// The database stays interchangeable with the Node backend: the tables, types,
// constraint and index names match @backstage/plugin-auth-backend 0.31.0's 13
// migrations and backend-defaults' 20240327104803_public_keys.js; knex_migrations (and
// backstage_backend_public_keys__knex_migrations) get the rows knex writes, under
// knex's lock row; times are stored in the formats Node writes. A database Node fully
// migrated is left untouched, and one it migrated only partly is refused (see migrate).
//
// On PostgreSQL the key stores also implement jwks.ChangeNotifier (LISTEN/NOTIFY, one
// channel per table) so replicas learn about each other's new keys at once; on SQLite
// they do not, and callers poll.
//
// Only public keys are stored: private keys never leave the process (BACKSTAGE_AUTH.md
// section 6.1).
package authdb
