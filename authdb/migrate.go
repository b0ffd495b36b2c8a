package authdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type migrationStatus int

const (
	statusFresh    migrationStatus = iota + 1 // none of our names (and nothing else) recorded
	statusComplete                            // all of our names recorded (others allowed)
	statusPartial                             // some of ours, or only names we do not know
)

// migrationState is what a knex migrations table records.
type migrationState struct {
	tableExists bool
	missing     []string // our names not recorded
	unknown     []string // recorded names that are not ours (a newer Node backend's)
}

func (s migrationState) status(set *migrationSet) migrationStatus {
	switch {
	case len(s.missing) == 0:
		return statusComplete
	case len(s.missing) == len(set.names) && len(s.unknown) == 0:
		return statusFresh
	default:
		return statusPartial
	}
}

func (db *DB) partialError(set *migrationSet, st migrationState) error {
	var b strings.Builder
	fmt.Fprintf(&b, "authdb: %s: the %s migrations are incomplete: %s lacks %s",
		db.describe, set.what, set.table, strings.Join(st.missing, ", "))
	if len(st.unknown) > 0 {
		fmt.Fprintf(&b, " (and lists migrations we do not know: %s)", strings.Join(st.unknown, ", "))
	}
	b.WriteString("; ")
	b.WriteString(set.finish)
	return errors.New(b.String())
}

// migrate brings one knex migration set up to date the way knex's migrate.latest()
// would, so that Node and Go can take turns on one database:
//
//   - all of our migrations recorded: nothing is written, not even the lock (newer,
//     unknown names are fine);
//   - some recorded: refused, naming the missing ones (let Node finish its own work);
//   - none recorded: in one transaction, take knex's lock row (UPDATE ... SET
//     is_locked = 1 WHERE is_locked = 0, plus a pg advisory lock so that two replicas
//     creating the knex tables do not collide), look again (a concurrent migrator may
//     have finished meanwhile), create the final schema, record every migration name
//     in one batch with migration_time, release the lock and commit.
func (db *DB) migrate(ctx context.Context, set *migrationSet) error {
	st, err := db.readMigrationState(ctx, db.sql, set)
	if err != nil {
		return err
	}
	switch st.status(set) {
	case statusComplete:
		db.logger.Debug("database migrations up to date", "database", db.describe, "table", set.table)
		return nil
	case statusPartial:
		return db.partialError(set, st)
	}

	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("authdb: %s: starting migration transaction: %w", db.describe, err)
	}
	defer func() { _ = tx.Rollback() }()
	applied, err := db.migrateLocked(ctx, tx, set)
	if err != nil {
		return err
	}
	if !applied {
		return nil // rolled back by the deferred call: nothing was left to do
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("authdb: %s: committing %s migrations: %w", db.describe, set.what, err)
	}
	db.logger.Info("database migrated", "database", db.describe, "table", set.table, "migrations", len(set.names))
	return nil
}

func (db *DB) migrateLocked(ctx context.Context, tx *sql.Tx, set *migrationSet) (bool, error) {
	wrap := func(step string, err error) error {
		return fmt.Errorf("authdb: %s: %s (%s migrations): %w", db.describe, step, set.what, err)
	}
	lockTable := set.table + "_lock"
	if db.isPG() {
		// Held until commit; serialises our own replicas even before the knex tables
		// exist. Node replicas are serialised by the knex lock row below.
		if _, err := tx.ExecContext(ctx,
			"SELECT pg_advisory_xact_lock(hashtext('backstage-auth-go:' || coalesce(current_schema(), '') || '.' || $1))",
			set.table); err != nil {
			return false, wrap("taking advisory lock", err)
		}
	}
	ddl := knexTableDDL(db.dialect, set.table)
	for i, table := range []string{set.table, lockTable} {
		exists, err := db.tableExists(ctx, tx, table)
		if err != nil {
			return false, wrap("looking for "+table, err)
		}
		if !exists {
			if _, err := tx.ExecContext(ctx, ddl[i]); err != nil {
				return false, wrap("creating "+table, err)
			}
		}
	}
	var lockRows int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(lockTable)).Scan(&lockRows); err != nil {
		return false, wrap("reading "+lockTable, err)
	}
	if lockRows == 0 {
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+quoteIdent(lockTable)+" (is_locked) VALUES (0)"); err != nil {
			return false, wrap("initialising "+lockTable, err)
		}
	}
	res, err := tx.ExecContext(ctx, "UPDATE "+quoteIdent(lockTable)+" SET is_locked = 1 WHERE is_locked = 0")
	if err != nil {
		return false, wrap("taking the knex migration lock", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, fmt.Errorf("authdb: %s: %s is locked (is_locked = 1): another process is migrating, "+
			"or a crashed migration left the lock behind; if nothing is migrating, run `knex migrate:unlock` "+
			"or UPDATE %s SET is_locked = 0", db.describe, lockTable, lockTable)
	}

	// Someone may have finished while we waited for the locks.
	st, err := db.readMigrationState(ctx, tx, set)
	if err != nil {
		return false, err
	}
	switch st.status(set) {
	case statusComplete:
		return false, nil
	case statusPartial:
		return false, db.partialError(set, st)
	}
	for _, table := range set.tables {
		exists, err := db.tableExists(ctx, tx, table)
		if err != nil {
			return false, wrap("looking for "+table, err)
		}
		if exists {
			return false, fmt.Errorf("authdb: %s: table %s exists but %s records none of the %s migrations; "+
				"refusing to migrate a database in an unknown state", db.describe, table, set.table, set.what)
		}
	}
	stmts := set.sqlite
	if db.isPG() {
		stmts = set.pg
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, wrap("creating the schema", fmt.Errorf("%w; statement: %s", err, stmt))
		}
	}
	var batch int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(batch), 0) FROM "+quoteIdent(set.table)).Scan(&batch); err != nil {
		return false, wrap("reading the last batch", err)
	}
	batch++
	insert := "INSERT INTO " + quoteIdent(set.table) + " (name, batch, migration_time) VALUES ($1, $2, $3)"
	for _, name := range set.names {
		// knex inserts new Date(): timestamptz on pg; better-sqlite3 binds a Date as
		// epoch milliseconds.
		var at any = db.now().UTC()
		if !db.isPG() {
			at = db.now().UnixMilli()
		}
		if _, err := tx.ExecContext(ctx, insert, name, batch, at); err != nil {
			return false, wrap("recording "+name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+quoteIdent(lockTable)+" SET is_locked = 0"); err != nil {
		return false, wrap("releasing the knex migration lock", err)
	}
	return true, nil
}

func (db *DB) readMigrationState(ctx context.Context, q queryer, set *migrationSet) (migrationState, error) {
	var st migrationState
	exists, err := db.tableExists(ctx, q, set.table)
	if err != nil {
		return st, fmt.Errorf("authdb: %s: looking for %s: %w", db.describe, set.table, err)
	}
	st.tableExists = exists
	recorded := map[string]bool{}
	if exists {
		rows, err := q.QueryContext(ctx, "SELECT name FROM "+quoteIdent(set.table)+" ORDER BY id")
		if err != nil {
			return st, fmt.Errorf("authdb: %s: reading %s: %w", db.describe, set.table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var name sql.NullString
			if err := rows.Scan(&name); err != nil {
				return st, fmt.Errorf("authdb: %s: reading %s: %w", db.describe, set.table, err)
			}
			recorded[name.String] = true
			if !slices.Contains(set.names, name.String) && !slices.Contains(st.unknown, name.String) {
				st.unknown = append(st.unknown, name.String)
			}
		}
		if err := rows.Err(); err != nil {
			return st, fmt.Errorf("authdb: %s: reading %s: %w", db.describe, set.table, err)
		}
	}
	for _, name := range set.names {
		if !recorded[name] {
			st.missing = append(st.missing, name)
		}
	}
	return st, nil
}

// tableExists looks in the schema the connection uses (search_path) on pg.
func (db *DB) tableExists(ctx context.Context, q queryer, table string) (bool, error) {
	query := "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1)"
	if db.isPG() {
		query = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1)"
	}
	var exists bool
	if err := q.QueryRowContext(ctx, query, table).Scan(&exists); err != nil {
		return false, err
	}
	return exists, nil
}

// quoteIdent quotes one of our own (constant) table names; both dialects accept "".
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
