package authdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// nodeSQLiteSchema is sqlite_master.sql of a data/auth.sqlite that the Node backend
// (plugin-auth-backend 0.31.0, backend-defaults 0.19.0) created, copied from the
// reference capture db-auth.txt. The capture came from the sqlite3 shell's .schema,
// which prints "CREATE TABLE IF NOT EXISTS" for tables with quoted names (knex's rebuilt
// user_info, oauth_authorization_sessions, offline_sessions); sqlite_master holds the
// statement without that clause, as below.
var nodeSQLiteSchema = map[string]string{
	"backstage_backend_public_keys__knex_migrations": "CREATE TABLE `backstage_backend_public_keys__knex_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime)",
	"sqlite_sequence": "CREATE TABLE sqlite_sequence(name,seq)",
	"backstage_backend_public_keys__knex_migrations_lock": "CREATE TABLE `backstage_backend_public_keys__knex_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer)",
	"backstage_backend_public_keys__keys":                 "CREATE TABLE `backstage_backend_public_keys__keys` (`id` varchar(255) not null, `key` text not null, `expires_at` varchar(255) not null, primary key (`id`))",
	"knex_migrations":                                     "CREATE TABLE `knex_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime)",
	"knex_migrations_lock":                                "CREATE TABLE `knex_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer)",
	"signing_keys":                                        "CREATE TABLE `signing_keys` (`kid` varchar(255) not null, `created_at` datetime not null default CURRENT_TIMESTAMP, `key` varchar(255) not null, primary key (`kid`))",
	"sessions":                                            "CREATE TABLE `sessions` (`sid` varchar(255) not null, `sess` text not null, `expired` datetime not null, primary key (`sid`))",
	"sessions_sid_idx":                                    "CREATE INDEX `sessions_sid_idx` on `sessions` (`sid`)",
	"sessions_expired_idx":                                "CREATE INDEX `sessions_expired_idx` on `sessions` (`expired`)",
	"user_info":                                           "CREATE TABLE \"user_info\" (`user_entity_ref` varchar(255) NOT NULL, `user_info` text NOT NULL, `updated_at` datetime NOT NULL, `created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (`user_entity_ref`))",
	"oidc_authorization_codes":                            "CREATE TABLE `oidc_authorization_codes` (`code` varchar(255) not null, `session_id` varchar(255) not null, `expires_at` datetime not null, `used` boolean default '0', foreign key(`session_id`) references `oauth_authorization_sessions`(`id`) on delete CASCADE, primary key (`code`))",
	"oauth_authorization_sessions":                        "CREATE TABLE \"oauth_authorization_sessions\" (`id` varchar(255) NOT NULL, `client_id` varchar(255) NOT NULL, `user_entity_ref` varchar(255) NULL, `redirect_uri` text NOT NULL, `scope` text NULL, `state` text NULL, `response_type` varchar(255) NOT NULL, `code_challenge` varchar(255) NULL, `code_challenge_method` varchar(255) NULL, `nonce` varchar(255) NULL, `status` text CHECK (`status` in('pending' , 'approved' , 'rejected' , 'expired')) DEFAULT 'pending', `expires_at` datetime NOT NULL, PRIMARY KEY (`id`))",
	"oauth_authorization_sessions_client_id_user_entity_ref_index": "CREATE INDEX `oauth_authorization_sessions_client_id_user_entity_ref_index` on `oauth_authorization_sessions` (`client_id`, `user_entity_ref`)",
	"oauth_authorization_sessions_status_expires_at_index":         "CREATE INDEX `oauth_authorization_sessions_status_expires_at_index` on `oauth_authorization_sessions` (`status`, `expires_at`)",
	"offline_sessions":                 "CREATE TABLE \"offline_sessions\" (`id` varchar(255) NOT NULL, `user_entity_ref` varchar(255) NOT NULL, `oidc_client_id` varchar(255) NULL, `token_hash` text NOT NULL, `created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, `last_used_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (`id`))",
	"offline_sessions_user_idx":        "CREATE INDEX `offline_sessions_user_idx` on `offline_sessions` (`user_entity_ref`)",
	"offline_sessions_oidc_client_idx": "CREATE INDEX `offline_sessions_oidc_client_idx` on `offline_sessions` (`oidc_client_id`)",
	"offline_sessions_created_idx":     "CREATE INDEX `offline_sessions_created_idx` on `offline_sessions` (`created_at`)",
	"offline_sessions_last_used_idx":   "CREATE INDEX `offline_sessions_last_used_idx` on `offline_sessions` (`last_used_at`)",
}

// pgColumns is the final PostgreSQL schema of BACKSTAGE_AUTH.md section 6.3 as
// information_schema shows it.
var pgColumns = []string{
	"backstage_backend_public_keys__keys.expires_at varchar(255) NOT NULL",
	"backstage_backend_public_keys__keys.id varchar(255) NOT NULL",
	"backstage_backend_public_keys__keys.key text NOT NULL",
	"backstage_backend_public_keys__knex_migrations.batch integer NULL",
	"backstage_backend_public_keys__knex_migrations.id integer NOT NULL",
	"backstage_backend_public_keys__knex_migrations.migration_time timestamptz(6) NULL",
	"backstage_backend_public_keys__knex_migrations.name varchar(255) NULL",
	"backstage_backend_public_keys__knex_migrations_lock.index integer NOT NULL",
	"backstage_backend_public_keys__knex_migrations_lock.is_locked integer NULL",
	"knex_migrations.batch integer NULL",
	"knex_migrations.id integer NOT NULL",
	"knex_migrations.migration_time timestamptz(6) NULL",
	"knex_migrations.name varchar(255) NULL",
	"knex_migrations_lock.index integer NOT NULL",
	"knex_migrations_lock.is_locked integer NULL",
	"oauth_authorization_sessions.client_id varchar(255) NOT NULL",
	"oauth_authorization_sessions.code_challenge varchar(255) NULL",
	"oauth_authorization_sessions.code_challenge_method varchar(255) NULL",
	"oauth_authorization_sessions.expires_at timestamptz(0) NOT NULL",
	"oauth_authorization_sessions.id varchar(255) NOT NULL",
	"oauth_authorization_sessions.nonce varchar(255) NULL",
	"oauth_authorization_sessions.redirect_uri text NOT NULL",
	"oauth_authorization_sessions.response_type varchar(255) NOT NULL",
	"oauth_authorization_sessions.scope text NULL",
	"oauth_authorization_sessions.state text NULL",
	"oauth_authorization_sessions.status text NULL",
	"oauth_authorization_sessions.user_entity_ref varchar(255) NULL",
	"offline_sessions.created_at timestamptz(0) NOT NULL",
	"offline_sessions.id varchar(255) NOT NULL",
	"offline_sessions.last_used_at timestamptz(0) NOT NULL",
	"offline_sessions.oidc_client_id varchar(255) NULL",
	"offline_sessions.token_hash text NOT NULL",
	"offline_sessions.user_entity_ref varchar(255) NOT NULL",
	"oidc_authorization_codes.code varchar(255) NOT NULL",
	"oidc_authorization_codes.expires_at timestamptz(0) NOT NULL",
	"oidc_authorization_codes.session_id varchar(255) NOT NULL",
	"oidc_authorization_codes.used boolean NULL",
	"sessions.expired timestamptz(6) NOT NULL",
	"sessions.sess text NOT NULL",
	"sessions.sid varchar(255) NOT NULL",
	"signing_keys.created_at timestamptz(0) NOT NULL",
	"signing_keys.key text NOT NULL",
	"signing_keys.kid varchar(255) NOT NULL",
	"user_info.created_at timestamptz(6) NOT NULL",
	"user_info.updated_at timestamptz(6) NOT NULL",
	"user_info.user_entity_ref varchar(255) NOT NULL",
	"user_info.user_info text NOT NULL",
}

var pgIndexes = []string{
	"backstage_backend_public_keys__keys_pkey",
	"backstage_backend_public_keys__knex_migrations_lock_pkey",
	"backstage_backend_public_keys__knex_migrations_pkey",
	"knex_migrations_lock_pkey",
	"knex_migrations_pkey",
	"oauth_authorization_sessions_client_id_user_entity_ref_index",
	"oauth_authorization_sessions_pkey",
	"oauth_authorization_sessions_status_expires_at_index",
	"offline_sessions_created_idx",
	"offline_sessions_last_used_idx",
	"offline_sessions_oidc_client_idx",
	"offline_sessions_pkey",
	"offline_sessions_user_idx",
	"oidc_authorization_codes_pkey",
	"sessions_expired_idx",
	"sessions_pkey",
	"sessions_sid_idx",
	"signing_keys_pkey",
	"user_info_pkey",
}

func queryStrings(t *testing.T, db *DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.sql.QueryContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func diffLists(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: unexpected %s", what, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: missing %s", what, w)
		}
	}
}

type knexRow struct {
	ID    int64
	Name  string
	Batch int64
	Time  time.Time
}

func knexRows(t *testing.T, db *DB, table string) []knexRow {
	t.Helper()
	rows, err := db.sql.QueryContext(t.Context(), "SELECT id, name, batch, migration_time FROM "+quoteIdent(table)+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []knexRow
	for rows.Next() {
		var r knexRow
		var at any
		if err := rows.Scan(&r.ID, &r.Name, &r.Batch, &at); err != nil {
			t.Fatal(err)
		}
		var perr error
		if r.Time, perr = parseStoredTime(at); perr != nil {
			t.Fatalf("%s migration_time: %v", r.Name, perr)
		}
		out = append(out, r)
	}
	return out
}

func lockValues(t *testing.T, db *DB, table string) []string {
	return queryStrings(t, db, "SELECT CAST(is_locked AS TEXT) FROM "+quoteIdent(table+"_lock"))
}

// checkKnexRecords asserts the rows knex would have written on a fresh database.
func checkKnexRecords(t *testing.T, db *DB, migratedAt time.Time) {
	t.Helper()
	for _, set := range []*migrationSet{&authMigrations, &pluginKeyMigrations} {
		rows := knexRows(t, db, set.table)
		var names []string
		for _, r := range rows {
			names = append(names, r.Name)
			if r.Batch != 1 {
				t.Errorf("%s %s: batch %d, want 1", set.table, r.Name, r.Batch)
			}
			if !r.Time.Equal(migratedAt.Truncate(time.Millisecond)) {
				t.Errorf("%s %s: migration_time %s, want %s", set.table, r.Name, r.Time, migratedAt)
			}
		}
		if !slices.Equal(names, set.names) {
			t.Errorf("%s names = %q, want %q", set.table, names, set.names)
		}
		if got := lockValues(t, db, set.table); !slices.Equal(got, []string{"0"}) {
			t.Errorf("%s_lock is_locked rows = %q, want one row 0", set.table, got)
		}
	}
}

var fixedNow = time.Date(2026, 11, 27, 11, 6, 48, 123_000_000, time.UTC)

func TestMigrateFreshSQLite(t *testing.T) {
	opts := sqliteFileOptions(t)
	opts.Now = func() time.Time { return fixedNow }
	db := openT(t, opts)
	checkKnexRecords(t, db, fixedNow)

	// migration_time is epoch milliseconds, as better-sqlite3 binds a JS Date.
	if got := queryStrings(t, db, "SELECT DISTINCT typeof(migration_time) || ':' || CAST(migration_time AS TEXT) FROM knex_migrations"); !slices.Equal(got, []string{fmt.Sprintf("integer:%d", fixedNow.UnixMilli())}) {
		t.Errorf("migration_time stored as %q", got)
	}
	rows, err := db.sql.QueryContext(t.Context(), "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			t.Fatal(err)
		}
		got[name] = ddl
	}
	for name, want := range nodeSQLiteSchema {
		if got[name] != want {
			t.Errorf("sqlite_master %s:\n got  %s\n want %s", name, got[name], want)
		}
	}
	for name := range got {
		if _, ok := nodeSQLiteSchema[name]; !ok {
			t.Errorf("sqlite_master has %s, which Node's database does not", name)
		}
	}
}

func TestMigrateFreshPostgres(t *testing.T) {
	for _, mode := range pgModes {
		t.Run(mode.name, func(t *testing.T) {
			dsn, name := freshPGDatabase(t)
			opts := pgOptions(dsn, name, mode.schema)
			opts.Now = func() time.Time { return fixedNow }
			db := openT(t, opts)
			checkKnexRecords(t, db, fixedNow)

			schema := queryStrings(t, db, "SELECT current_schema()")
			want := "public"
			if mode.schema != "" {
				want = mode.schema
			}
			if !slices.Equal(schema, []string{want}) {
				t.Fatalf("current_schema = %q, want %s", schema, want)
			}
			cols := queryStrings(t, db, `SELECT table_name || '.' || column_name || ' ' ||
				CASE data_type
				  WHEN 'character varying' THEN 'varchar(' || character_maximum_length || ')'
				  WHEN 'timestamp with time zone' THEN 'timestamptz(' || datetime_precision || ')'
				  ELSE data_type END ||
				CASE is_nullable WHEN 'YES' THEN ' NULL' ELSE ' NOT NULL' END
				FROM information_schema.columns WHERE table_schema = current_schema()`)
			diffLists(t, "columns", cols, pgColumns)
			diffLists(t, "indexes", queryStrings(t, db, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"), pgIndexes)
			diffLists(t, "foreign keys", queryStrings(t, db, `SELECT table_name || ':' || constraint_name FROM information_schema.table_constraints
				WHERE constraint_schema = current_schema() AND constraint_type = 'FOREIGN KEY'`),
				[]string{"oidc_authorization_codes:oidc_authorization_codes_session_id_foreign"})
			defaults := queryStrings(t, db, `SELECT table_name || '.' || column_name || '=' || column_default FROM information_schema.columns
				WHERE table_schema = current_schema() AND column_default IS NOT NULL AND column_default NOT LIKE 'nextval%'`)
			diffLists(t, "defaults", defaults, []string{
				"signing_keys.created_at=CURRENT_TIMESTAMP",
				"user_info.created_at=CURRENT_TIMESTAMP",
				"offline_sessions.created_at=CURRENT_TIMESTAMP",
				"offline_sessions.last_used_at=CURRENT_TIMESTAMP",
				"oauth_authorization_sessions.status='pending'::text",
				"oidc_authorization_codes.used=false",
			})
			if mode.schema != "" {
				if got := queryStrings(t, db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"); len(got) != 0 {
					t.Errorf("schema mode left tables in public: %q", got)
				}
			}
			// The status check constraint is enforced like Node's enum.
			if _, err := db.sql.ExecContext(t.Context(), `INSERT INTO oauth_authorization_sessions (id, client_id, redirect_uri, response_type, status, expires_at)
				VALUES ('s', 'c', 'https://x', 'code', 'bogus', now())`); err == nil {
				t.Error("status 'bogus' was accepted")
			}
		})
	}
}

// migrateTwice opens, closes and opens again: the second Open writes nothing.
func migrateTwice(t *testing.T, opts Options) {
	t.Helper()
	opts.Now = func() time.Time { return fixedNow }
	first, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]knexRow{}
	for _, set := range []*migrationSet{&authMigrations, &pluginKeyMigrations} {
		before[set.table] = knexRows(t, first, set.table)
	}
	_ = first.Close()
	opts.Now = func() time.Time { return fixedNow.Add(time.Hour) }
	second := openT(t, opts)
	for table, want := range before {
		if got := knexRows(t, second, table); !slices.Equal(got, want) {
			t.Errorf("%s changed by the second Open:\n got  %v\n want %v", table, got, want)
		}
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { migrateTwice(t, sqliteFileOptions(t)) })
	for _, mode := range pgModes {
		t.Run("Postgres"+mode.name, func(t *testing.T) {
			dsn, name := freshPGDatabase(t)
			migrateTwice(t, pgOptions(dsn, name, mode.schema))
		})
	}
}

// concurrentOpen starts several replicas on one fresh database at once.
func concurrentOpen(t *testing.T, opts Options) {
	t.Helper()
	const replicas = 5
	dbs := make([]*DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range replicas {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(t.Context(), opts)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { _ = dbs[i].Close() })
	}
	for _, set := range []*migrationSet{&authMigrations, &pluginKeyMigrations} {
		if n := count(t, dbs[0], set.table); n != len(set.names) {
			t.Errorf("%s has %d rows after %d concurrent Opens, want %d", set.table, n, replicas, len(set.names))
		}
		if got := lockValues(t, dbs[0], set.table); !slices.Equal(got, []string{"0"}) {
			t.Errorf("%s_lock = %q, want one row 0", set.table, got)
		}
	}
}

func TestConcurrentOpen(t *testing.T) {
	t.Run("SQLiteFile", func(t *testing.T) { concurrentOpen(t, sqliteFileOptions(t)) })
	for _, mode := range pgModes {
		t.Run("Postgres"+mode.name, func(t *testing.T) {
			dsn, name := freshPGDatabase(t)
			concurrentOpen(t, pgOptions(dsn, name, mode.schema))
		})
	}
}

// nodeState is a database as some Node backend left it.
type nodeState struct {
	authNames   []string
	pluginNames []string
	authLocked  bool
	// extraTable is created besides the knex tables (to simulate stray tables).
	extraTable string
}

const sentinelKID = "node-sentinel"

// populate writes nodeState through a connection opened without migrations. It uses
// only the columns knex has, with simplified types; what matters is what Open does
// with the knex records.
func populate(t *testing.T, db *DB, st nodeState) {
	t.Helper()
	for _, set := range []struct {
		table  string
		names  []string
		locked bool
	}{
		{"knex_migrations", st.authNames, st.authLocked},
		{"backstage_backend_public_keys__knex_migrations", st.pluginNames, false},
	} {
		mustExec(t, db, "CREATE TABLE "+quoteIdent(set.table)+" (id integer primary key, name varchar(255), batch integer, migration_time varchar(64))")
		mustExec(t, db, "CREATE TABLE "+quoteIdent(set.table+"_lock")+` ("index" integer primary key, is_locked integer)`)
		locked := 0
		if set.locked {
			locked = 1
		}
		mustExec(t, db, "INSERT INTO "+quoteIdent(set.table+"_lock")+` ("index", is_locked) VALUES (1, $1)`, locked)
		for i, name := range set.names {
			mustExec(t, db, "INSERT INTO "+quoteIdent(set.table)+" (id, name, batch, migration_time) VALUES ($1, $2, 1, '2026-01-01 00:00:00')", i+1, name)
		}
	}
	if st.extraTable != "" {
		mustExec(t, db, "CREATE TABLE "+quoteIdent(st.extraTable)+" (kid varchar(255) primary key, created_at varchar(64), key text)")
		mustExec(t, db, "INSERT INTO "+quoteIdent(st.extraTable)+" (kid, created_at, key) VALUES ($1, '2026-01-01 00:00:00', '{}')", sentinelKID)
	}
}

type dbSnapshot map[string][]string

func snapshot(t *testing.T, db *DB) dbSnapshot {
	t.Helper()
	tablesQuery := "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
	if db.isPG() {
		tablesQuery = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	}
	snap := dbSnapshot{}
	for _, table := range queryStrings(t, db, tablesQuery) {
		rows, err := db.sql.QueryContext(t.Context(), "SELECT * FROM "+quoteIdent(table))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		var lines []string
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprint(vals...))
		}
		rows.Close()
		slices.Sort(lines)
		snap[table] = lines
	}
	return snap
}

func (s dbSnapshot) String() string {
	var b strings.Builder
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range s {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "%s: %q\n", k, s[k])
	}
	return b.String()
}

// prepare opens the database without migrating, writes st and closes it again.
func prepare(t *testing.T, opts Options, st nodeState) {
	t.Helper()
	raw := opts
	raw.SkipMigrations = true
	db, err := Open(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	populate(t, db, st)
	_ = db.Close()
}

func existingDatabases(t *testing.T) map[string]func(t *testing.T) Options {
	return map[string]func(t *testing.T) Options{
		"SQLite": sqliteFileOptions,
		"PostgresDatabaseMode": func(t *testing.T) Options {
			dsn, name := freshPGDatabase(t)
			return pgOptions(dsn, name, "")
		},
		"PostgresSchemaMode": func(t *testing.T) Options {
			dsn, name := freshPGDatabase(t)
			return pgOptions(dsn, name, "auth")
		},
	}
}

func TestNodeMigratedDatabaseIsLeftUntouched(t *testing.T) {
	future := "20270101000000_something_newer.js"
	for name, newOpts := range existingDatabases(t) {
		t.Run(name, func(t *testing.T) {
			opts := newOpts(t)
			// A stuck lock too: a fully migrated database must not even take it.
			prepare(t, opts, nodeState{
				authNames:   append(slices.Clone(authMigrationNames), future),
				pluginNames: pluginKeyMigrations.names,
				authLocked:  true,
				extraTable:  "signing_keys",
			})
			raw := opts
			raw.SkipMigrations = true
			before := snapshot(t, openT(t, raw))

			db := openT(t, opts)
			after := snapshot(t, db)
			if before.String() != after.String() {
				t.Fatalf("Open changed a Node-migrated database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if got := queryStrings(t, db, "SELECT kid FROM signing_keys"); !slices.Equal(got, []string{sentinelKID}) {
				t.Fatalf("sentinel rows = %q", got)
			}
			if n := count(t, db, "knex_migrations"); n != len(authMigrationNames)+1 {
				t.Fatalf("knex_migrations has %d rows", n)
			}
		})
	}
}

func TestRefusesUnknownStates(t *testing.T) {
	partial := authMigrationNames[:7]
	for _, tc := range []struct {
		name  string
		state nodeState
		want  []string
	}{
		{
			name:  "PartlyMigrated",
			state: nodeState{authNames: partial, pluginNames: pluginKeyMigrations.names},
			want: append([]string{"incomplete", "knex_migrations lacks", "Node.js auth backend"},
				authMigrationNames[7:]...),
		},
		{
			name:  "OnlyUnknownNames",
			state: nodeState{authNames: []string{"20990101000000_other_plugin.js"}, pluginNames: pluginKeyMigrations.names},
			want:  []string{"incomplete", "20990101000000_other_plugin.js", authMigrationNames[0]},
		},
		{
			name:  "PluginKeysPartlyUnknown",
			state: nodeState{authNames: authMigrationNames, pluginNames: []string{"20990101000000_public_keys_v2.js"}},
			want:  []string{"backstage_backend_public_keys__knex_migrations lacks 20240327104803_public_keys.js"},
		},
		{
			name:  "TablesWithoutRecords",
			state: nodeState{pluginNames: pluginKeyMigrations.names, extraTable: "signing_keys"},
			want:  []string{"table signing_keys exists", "records none"},
		},
		{
			name:  "StuckLock",
			state: nodeState{pluginNames: pluginKeyMigrations.names, authLocked: true},
			want:  []string{"knex_migrations_lock is locked", "migrate:unlock"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, newOpts := range existingDatabases(t) {
				t.Run(name, func(t *testing.T) {
					opts := newOpts(t)
					prepare(t, opts, tc.state)
					raw := opts
					raw.SkipMigrations = true
					before := snapshot(t, openT(t, raw))
					db, err := Open(t.Context(), opts)
					if err == nil {
						_ = db.Close()
						t.Fatal("Open succeeded")
					}
					for _, w := range tc.want {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("error %q does not mention %q", err, w)
						}
					}
					if after := snapshot(t, openT(t, raw)); before.String() != after.String() {
						t.Errorf("refused Open still changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
					}
				})
			}
		})
	}
}

func TestSkipMigrations(t *testing.T) {
	opts := sqliteFileOptions(t)
	opts.SkipMigrations = true
	db := openT(t, opts)
	var n int
	if err := db.sql.QueryRowContext(t.Context(), "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("SkipMigrations created %d schema objects", n)
	}
	if _, err := db.SigningKeys().ListKeys(t.Context()); err == nil {
		t.Fatal("listing keys without tables succeeded")
	}
}

// A pg_advisory_xact_lock must not outlive the migration: a second database object
// can still migrate another set immediately (smoke test for transaction scoping).
func TestMigrationTransactionReleasesLocks(t *testing.T) {
	db := newPG(t, "")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var held int
	if err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Fatalf("%d advisory locks still held after Open", held)
	}
	var tx *sql.Tx
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, "UPDATE knex_migrations_lock SET is_locked = 1 WHERE is_locked = 0")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("knex lock could not be taken after Open (%d rows)", n)
	}
}
