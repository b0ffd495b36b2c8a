// Package authdb owns the auth plugin database: connecting to PostgreSQL (pgx) or
// SQLite (modernc.org/sqlite) (db.go), creating the schema the way the Node
// backend's knex migrations do (migrate.go, schema.go), and one store per table the
// Go backend reads or writes. Packages above it define the interfaces; authdb
// implements them and is wired in by cmd.
//
// Tables and where their code lives:
//
//   - signing_keys (user-token public keys): keystore.go, a signingkeys.KeyStore;
//   - backstage_backend_public_keys__keys (plugin service-token public keys, from
//     @backstage/backend-defaults): keystore.go, the same type with the other column
//     set;
//   - user_info: userinfo.go, a tokens.UserInfoStore;
//   - oauth_authorization_sessions, oidc_authorization_codes and offline_sessions (the
//     authorization server's consent sessions, codes and refresh tokens):
//     oauthsessions.go, the interfaces of package authserver/store, with the
//     decisions, code redemption and refresh-token rotation as single conditional
//     statements so concurrent requests cannot both win;
//   - sessions (Node's express-session table, whose schema we keep): sessions.go, a
//     sessions.Store holding our sign-in sessions under their own sid prefix, with
//     revocations carried over LISTEN/NOTIFY (a sessions.Notifier); offboarding also
//     deletes the user's offline_sessions rows, as Backstage's offline-sessions/revoke
//     does;
//   - LISTEN/NOTIFY for both key tables: notify.go, a signingkeys.ChangeNotifier;
//   - stored-time formats shared by the stores: timefmt.go.
//
// The schema itself must not change, since Node and Go share the database.
//
// The database stays interchangeable with the Node backend: the tables, types,
// constraint and index names match @backstage/plugin-auth-backend 0.31.0's 13
// migrations and backend-defaults' 20240327104803_public_keys.js; knex_migrations (and
// backstage_backend_public_keys__knex_migrations) get the rows knex writes, under
// knex's lock row; times are stored in the formats Node writes. A database Node fully
// migrated is left untouched, and one it migrated only partly is refused (see migrate).
//
// On PostgreSQL the key stores also implement signingkeys.ChangeNotifier (one
// channel per table) so replicas learn about each other's new keys at once; on SQLite
// they do not, and callers poll.
//
// Only public keys are stored: private keys never leave the process (BACKSTAGE_AUTH.md
// section 6.1).
package authdb
