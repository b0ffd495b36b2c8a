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
//   - sessions (Node's express-session table, whose schema we keep): sessions.go, a
//     sessions.Store holding our sign-in sessions under their own sid prefix, with
//     revocations carried over LISTEN/NOTIFY (a sessions.Notifier);
//   - LISTEN/NOTIFY for both key tables: notify.go, a signingkeys.ChangeNotifier;
//   - stored-time formats shared by the stores: timefmt.go.
//
// The migrations already create the authorization-server tables, which no store
// reads yet: oauth_authorization_sessions, oidc_authorization_codes and
// offline_sessions (offboarding deletes a user's rows there, as Backstage's
// offline-sessions/revoke does). When the
// authorization server arrives, each gets its own file here beside the ones above
// (oauthsessions.go, oidccodes.go, offlinesessions.go), implementing an
// interface its consumer defines, as keystore.go and userinfo.go do; the schema
// itself must not change, since Node and Go share the database.
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
