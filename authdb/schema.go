package authdb

import "fmt"

// The DDL below is what knex 3 emits for the Backstage migrations, reduced to the final
// state after all of them ran (a database that is only partly migrated is refused, so
// intermediate states never need to be built). Table, column, constraint and index
// names are knex's defaults, so a later Node migration that drops a foreign key or an
// index by name still finds it.
//
// SQLite: the statements are byte-for-byte the sqlite_master.sql text a Node backend
// leaves behind (reference capture db-auth.txt), including the quoted-name, upper-case
// forms of the tables knex rebuilt to alter them. (The capture shows those as "CREATE
// TABLE IF NOT EXISTS "name"" because the sqlite3 shell's .schema adds the clause to
// tables with quoted names; SQLite itself never stores it.)
//
// PostgreSQL: the types knex's pg column compiler produces (string -> varchar(255),
// timestamp -> timestamptz, enum -> text check (...), increments -> serial primary key),
// with the column comments the migrations set.

// migrationSet is one knex migration directory and the table knex records it in.
type migrationSet struct {
	// table is knex's tableName option (the lock table is table + "_lock").
	table string
	// what names the set in messages.
	what string
	// names are the migration file names in the order knex runs them.
	names []string
	// tables are the tables the set creates (checked to be absent on a fresh database).
	tables []string
	// pg and sqlite are the DDL statements that produce the final schema.
	pg, sqlite []string
	// finish is the hint given when the set is only partly applied.
	finish string
}

// authMigrationNames are @backstage/plugin-auth-backend 0.31.0's migrations/*.js.
var authMigrationNames = []string{
	"20200619125845_init.js",
	"20210326100300_timestamptz.js",
	"20220321100910_timestamptz_again.js",
	"20220522100910_key_field_size.js",
	"20230428155633_sessions.js",
	"20240510120825_user_info.js",
	"20250707164600_user_created_at.js",
	"20250909120000_oidc_client_registration.js",
	"20251020000000_offline_sessions.js",
	"20251118120000_oauth_state_text.js",
	"20251217120000_drop_oidc_clients_fk.js",
	"20260317120000_drop_offline_sessions_fk.js",
	"20261030120000_remove_dcr.js",
}

// Table names used by the stores.
const (
	tableSigningKeys = "signing_keys"
	tableUserInfo    = "user_info"
	tablePluginKeys  = "backstage_backend_public_keys__keys"
)

var authMigrations = migrationSet{
	table: "knex_migrations",
	what:  "@backstage/plugin-auth-backend",
	names: authMigrationNames,
	tables: []string{
		"signing_keys", "sessions", "user_info",
		"oauth_authorization_sessions", "oidc_authorization_codes", "offline_sessions",
	},
	finish: "start the Node.js auth backend (@backstage/plugin-auth-backend 0.31.0 or newer) once against this database so knex can finish, or point us at a fresh database",
	sqlite: []string{
		"CREATE TABLE `signing_keys` (`kid` varchar(255) not null, `created_at` datetime not null default CURRENT_TIMESTAMP, `key` varchar(255) not null, primary key (`kid`))",
		"CREATE TABLE `sessions` (`sid` varchar(255) not null, `sess` text not null, `expired` datetime not null, primary key (`sid`))",
		"CREATE INDEX `sessions_sid_idx` on `sessions` (`sid`)",
		"CREATE INDEX `sessions_expired_idx` on `sessions` (`expired`)",
		"CREATE TABLE \"user_info\" (`user_entity_ref` varchar(255) NOT NULL, `user_info` text NOT NULL, `updated_at` datetime NOT NULL, `created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (`user_entity_ref`))",
		"CREATE TABLE \"oauth_authorization_sessions\" (`id` varchar(255) NOT NULL, `client_id` varchar(255) NOT NULL, `user_entity_ref` varchar(255) NULL, `redirect_uri` text NOT NULL, `scope` text NULL, `state` text NULL, `response_type` varchar(255) NOT NULL, `code_challenge` varchar(255) NULL, `code_challenge_method` varchar(255) NULL, `nonce` varchar(255) NULL, `status` text CHECK (`status` in('pending' , 'approved' , 'rejected' , 'expired')) DEFAULT 'pending', `expires_at` datetime NOT NULL, PRIMARY KEY (`id`))",
		"CREATE INDEX `oauth_authorization_sessions_client_id_user_entity_ref_index` on `oauth_authorization_sessions` (`client_id`, `user_entity_ref`)",
		"CREATE INDEX `oauth_authorization_sessions_status_expires_at_index` on `oauth_authorization_sessions` (`status`, `expires_at`)",
		"CREATE TABLE `oidc_authorization_codes` (`code` varchar(255) not null, `session_id` varchar(255) not null, `expires_at` datetime not null, `used` boolean default '0', foreign key(`session_id`) references `oauth_authorization_sessions`(`id`) on delete CASCADE, primary key (`code`))",
		"CREATE TABLE \"offline_sessions\" (`id` varchar(255) NOT NULL, `user_entity_ref` varchar(255) NOT NULL, `oidc_client_id` varchar(255) NULL, `token_hash` text NOT NULL, `created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, `last_used_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (`id`))",
		"CREATE INDEX `offline_sessions_user_idx` on `offline_sessions` (`user_entity_ref`)",
		"CREATE INDEX `offline_sessions_oidc_client_idx` on `offline_sessions` (`oidc_client_id`)",
		"CREATE INDEX `offline_sessions_created_idx` on `offline_sessions` (`created_at`)",
		"CREATE INDEX `offline_sessions_last_used_idx` on `offline_sessions` (`last_used_at`)",
	},
	pg: []string{
		// 20200619125845_init.js + timestamptz (x2) + key_field_size.
		`create table "signing_keys" ("kid" varchar(255) not null, "created_at" timestamptz(0) not null default CURRENT_TIMESTAMP, "key" text not null, constraint "signing_keys_pkey" primary key ("kid"))`,
		`comment on table "signing_keys" is 'Signing keys that are currently in use or have recently been used to issue tokens'`,
		`comment on column "signing_keys"."kid" is 'ID of the signing key'`,
		`comment on column "signing_keys"."created_at" is 'The creation time of the key'`,
		`comment on column "signing_keys"."key" is 'The serialized signing key'`,
		// 20230428155633_sessions.js
		`create table "sessions" ("sid" varchar(255) not null, "sess" text not null, "expired" timestamptz not null, constraint "sessions_pkey" primary key ("sid"))`,
		`comment on table "sessions" is 'Session data'`,
		`comment on column "sessions"."sid" is 'ID of the session'`,
		`comment on column "sessions"."sess" is 'Session data, JSON serialized'`,
		`comment on column "sessions"."expired" is 'The point in time when the session expires'`,
		`create index "sessions_sid_idx" on "sessions" ("sid")`,
		`create index "sessions_expired_idx" on "sessions" ("expired")`,
		// 20240510120825_user_info.js + 20250707164600_user_created_at.js (exp renamed to updated_at).
		`create table "user_info" ("user_entity_ref" varchar(255) not null, "user_info" text not null, "updated_at" timestamptz not null, "created_at" timestamptz not null default CURRENT_TIMESTAMP, constraint "user_info_pkey" primary key ("user_entity_ref"))`,
		`comment on table "user_info" is 'User information'`,
		`comment on column "user_info"."user_entity_ref" is 'User entity reference'`,
		`comment on column "user_info"."user_info" is 'User info blob, JSON serialized'`,
		`comment on column "user_info"."updated_at" is 'Expiration timestamp of the user info'`,
		// 20250909120000_oidc_client_registration.js + oauth_state_text + drop_oidc_clients_fk
		// + remove_dcr (oidc_clients is created and dropped again, so it is never made).
		`create table "oauth_authorization_sessions" ("id" varchar(255) not null, "client_id" varchar(255) not null, "user_entity_ref" varchar(255) null, "redirect_uri" text not null, "scope" text null, "state" text null, "response_type" varchar(255) not null, "code_challenge" varchar(255) null, "code_challenge_method" varchar(255) null, "nonce" varchar(255) null, "status" text check ("status" in ('pending', 'approved', 'rejected', 'expired')) default 'pending', "expires_at" timestamptz(0) not null, constraint "oauth_authorization_sessions_pkey" primary key ("id"))`,
		`comment on table "oauth_authorization_sessions" is 'Core OAuth authorization sessions with shared context'`,
		`comment on column "oauth_authorization_sessions"."id" is 'Unique session identifier'`,
		`comment on column "oauth_authorization_sessions"."client_id" is 'OIDC client identifier'`,
		`comment on column "oauth_authorization_sessions"."user_entity_ref" is 'Backstage user entity reference'`,
		`comment on column "oauth_authorization_sessions"."redirect_uri" is 'Client redirect URI'`,
		`comment on column "oauth_authorization_sessions"."scope" is 'Requested scopes space-separated'`,
		`comment on column "oauth_authorization_sessions"."state" is 'Client state parameter'`,
		`comment on column "oauth_authorization_sessions"."response_type" is 'OAuth2 response type'`,
		`comment on column "oauth_authorization_sessions"."code_challenge" is 'PKCE code challenge'`,
		`comment on column "oauth_authorization_sessions"."code_challenge_method" is 'PKCE code challenge method'`,
		`comment on column "oauth_authorization_sessions"."nonce" is 'OIDC nonce parameter'`,
		`comment on column "oauth_authorization_sessions"."status" is 'Authorization session status'`,
		`comment on column "oauth_authorization_sessions"."expires_at" is 'Session expiration timestamp'`,
		`create index "oauth_authorization_sessions_client_id_user_entity_ref_index" on "oauth_authorization_sessions" ("client_id", "user_entity_ref")`,
		`create index "oauth_authorization_sessions_status_expires_at_index" on "oauth_authorization_sessions" ("status", "expires_at")`,
		`create table "oidc_authorization_codes" ("code" varchar(255) not null, "session_id" varchar(255) not null, "expires_at" timestamptz(0) not null, "used" boolean default '0', constraint "oidc_authorization_codes_pkey" primary key ("code"))`,
		`comment on table "oidc_authorization_codes" is 'OAuth authorization codes for code exchange flow'`,
		`comment on column "oidc_authorization_codes"."code" is 'Unique authorization code'`,
		`comment on column "oidc_authorization_codes"."session_id" is 'Authorization session identifier'`,
		`comment on column "oidc_authorization_codes"."expires_at" is 'Authorization code expiration timestamp'`,
		`comment on column "oidc_authorization_codes"."used" is 'Whether the authorization code has been used'`,
		`alter table "oidc_authorization_codes" add constraint "oidc_authorization_codes_session_id_foreign" foreign key ("session_id") references "oauth_authorization_sessions" ("id") on delete CASCADE`,
		// 20251020000000_offline_sessions.js + 20260317120000_drop_offline_sessions_fk.js
		`create table "offline_sessions" ("id" varchar(255) not null, "user_entity_ref" varchar(255) not null, "oidc_client_id" varchar(255) null, "token_hash" text not null, "created_at" timestamptz(0) not null default CURRENT_TIMESTAMP, "last_used_at" timestamptz(0) not null default CURRENT_TIMESTAMP, constraint "offline_sessions_pkey" primary key ("id"))`,
		`comment on table "offline_sessions" is 'Offline sessions for refresh tokens in dynamic client registration and device auth flows'`,
		`comment on column "offline_sessions"."id" is 'Persistent session ID that remains across token rotations'`,
		`comment on column "offline_sessions"."user_entity_ref" is 'Backstage user entity reference'`,
		`comment on column "offline_sessions"."oidc_client_id" is 'OIDC client identifier (optional, for OIDC flows)'`,
		`comment on column "offline_sessions"."token_hash" is 'Current refresh token hash (scrypt)'`,
		`comment on column "offline_sessions"."created_at" is 'Session creation timestamp'`,
		`comment on column "offline_sessions"."last_used_at" is 'Last token refresh timestamp'`,
		`create index "offline_sessions_user_idx" on "offline_sessions" ("user_entity_ref")`,
		`create index "offline_sessions_oidc_client_idx" on "offline_sessions" ("oidc_client_id")`,
		`create index "offline_sessions_created_idx" on "offline_sessions" ("created_at")`,
		`create index "offline_sessions_last_used_idx" on "offline_sessions" ("last_used_at")`,
	},
}

// pluginKeyMigrations is @backstage/backend-defaults' plugin key store
// (migrations/auth/20240327104803_public_keys.js, tableName
// backstage_backend_public_keys__knex_migrations), which lives in every plugin's
// database, the auth plugin's included.
var pluginKeyMigrations = migrationSet{
	table:  "backstage_backend_public_keys__knex_migrations",
	what:   "@backstage/backend-defaults plugin key store",
	names:  []string{"20240327104803_public_keys.js"},
	tables: []string{tablePluginKeys},
	finish: "start the Node.js backend once against this database so knex can finish, or point us at a fresh database",
	sqlite: []string{
		"CREATE TABLE `backstage_backend_public_keys__keys` (`id` varchar(255) not null, `key` text not null, `expires_at` varchar(255) not null, primary key (`id`))",
	},
	pg: []string{
		`create table "backstage_backend_public_keys__keys" ("id" varchar(255) not null, "key" text not null, "expires_at" varchar(255) not null, constraint "backstage_backend_public_keys__keys_pkey" primary key ("id"))`,
		`comment on column "backstage_backend_public_keys__keys"."id" is 'The unique ID of a public key'`,
		`comment on column "backstage_backend_public_keys__keys"."key" is 'JSON serialized public key'`,
		`comment on column "backstage_backend_public_keys__keys"."expires_at" is 'The time that the key expires'`,
	},
}

// knexTableDDL returns knex's DDL for a migrations table and its lock table
// (lib/migrations/migrate/table-creator.js).
func knexTableDDL(d dialect, table string) []string {
	if d == dialectSQLite {
		return []string{
			fmt.Sprintf("CREATE TABLE `%s` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime)", table),
			fmt.Sprintf("CREATE TABLE `%s_lock` (`index` integer not null primary key autoincrement, `is_locked` integer)", table),
		}
	}
	return []string{
		fmt.Sprintf(`create table "%s" ("id" serial primary key, "name" varchar(255), "batch" integer, "migration_time" timestamptz)`, table),
		fmt.Sprintf(`create table "%s_lock" ("index" serial primary key, "is_locked" integer)`, table),
	}
}
