package authdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/spectrocloud-labs/backstage-auth-go/sessions"
	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// Options say which database to use. The lead maps backend.database and
// auth.keyStore config onto it.
type Options struct {
	// Client is "pg" (also "postgres", "postgresql") or "sqlite" (also "sqlite3",
	// "better-sqlite3").
	Client string
	// SQLitePath is a file path or ":memory:". The parent directory is created.
	SQLitePath string
	// PGConnString is a libpq URL or key=value DSN that reaches the server.
	PGConnString string
	// PGDatabase is the database to use, e.g. backstage_plugin_auth; "" keeps the one
	// in PGConnString. Created when EnsureExists and missing.
	PGDatabase string
	// PGSchema is "" (public) or, in pluginDivisionMode schema, e.g. "auth": created when
	// missing and used through search_path.
	PGSchema string
	// EnsureExists creates PGDatabase when it does not exist (Backstage does this in
	// pluginDivisionMode database), connecting to the database named in PGConnString,
	// or to "postgres" when that is the same one.
	EnsureExists bool
	// SkipMigrations leaves the schema alone (backend.database.skipMigrations).
	SkipMigrations bool
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now defaults to time.Now; it stamps created_at/updated_at when the caller leaves
	// them zero, and knex_migrations.migration_time.
	Now func() time.Time
	// ConnectAttempts is how often Open tries to reach PostgreSQL (default 5).
	ConnectAttempts int
	// ConnectBackoff is the first wait between attempts; it doubles up to 30 s
	// (default 1 s). LISTEN reconnects use the same schedule.
	ConnectBackoff time.Duration
}

const (
	defaultConnectAttempts = 5
	defaultConnectBackoff  = time.Second
	maxBackoff             = 30 * time.Second
	defaultConnectTimeout  = 10 * time.Second
	sqliteBusyTimeoutMS    = 10000
	applicationName        = "backstage-auth-go"
	// listenHealthInterval is how long a LISTEN connection may stay silent before it is
	// pinged, so a connection that died without a FIN is noticed.
	listenHealthInterval = 30 * time.Second
)

type dialect int

const (
	dialectPG dialect = iota + 1
	dialectSQLite
)

// DB is an open auth plugin database with its tables migrated.
type DB struct {
	sql      *sql.DB
	dialect  dialect
	pgConfig *pgx.ConnConfig // nil for SQLite; the LISTEN connections copy it
	logger   *slog.Logger
	now      func() time.Time
	describe string
	backoff  time.Duration
	// instanceID is the NOTIFY payload of this DB, so its own listeners skip its notifies.
	instanceID     string
	healthInterval time.Duration

	closeCtx  context.Context
	closeStop context.CancelFunc
	wg        sync.WaitGroup // LISTEN goroutines
	mu        sync.Mutex     // guards closed against wg.Add after Close began
	closed    bool
	closeOnce sync.Once
	closeErr  error

	signing, plugin signingkeys.KeyStore
	userInfo        *userInfoStore
	sessions        sessions.Store
}

// Open connects (retrying PostgreSQL with exponential backoff), creates the database or
// schema when asked to, and applies the Backstage migrations unless SkipMigrations.
func Open(ctx context.Context, opts Options) (*DB, error) {
	db := &DB{
		logger:         opts.Logger,
		now:            opts.Now,
		backoff:        opts.ConnectBackoff,
		healthInterval: listenHealthInterval,
	}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	if db.now == nil {
		db.now = time.Now
	}
	if db.backoff <= 0 {
		db.backoff = defaultConnectBackoff
	}
	attempts := opts.ConnectAttempts
	if attempts <= 0 {
		attempts = defaultConnectAttempts
	}
	var id [8]byte
	if _, err := io.ReadFull(rand.Reader, id[:]); err != nil {
		return nil, fmt.Errorf("authdb: random instance id: %w", err)
	}
	db.instanceID = hex.EncodeToString(id[:])

	switch strings.ToLower(strings.TrimSpace(opts.Client)) {
	case "pg", "postgres", "postgresql":
		db.dialect = dialectPG
		if err := db.openPG(ctx, opts, attempts); err != nil {
			return nil, err
		}
	case "sqlite", "sqlite3", "better-sqlite3":
		db.dialect = dialectSQLite
		if err := db.openSQLite(ctx, opts); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("authdb: unsupported database client %q (want pg or sqlite)", opts.Client)
	}
	db.closeCtx, db.closeStop = context.WithCancel(context.Background())

	if opts.SkipMigrations {
		db.logger.Info("database migrations skipped", "database", db.describe)
	} else {
		for _, set := range []*migrationSet{&pluginKeyMigrations, &authMigrations} {
			if err := db.migrate(ctx, set); err != nil {
				_ = db.Close()
				return nil, err
			}
		}
	}

	base := &keyStore{db: db, kind: signingKind}
	pluginBase := &keyStore{db: db, kind: pluginKind}
	if db.dialect == dialectPG {
		db.signing = &notifyingKeyStore{keyStore: base, channel: channelName("backstage_auth_signing_keys", opts.PGSchema)}
		db.plugin = &notifyingKeyStore{keyStore: pluginBase, channel: channelName("backstage_auth_plugin_keys", opts.PGSchema)}
	} else {
		db.signing = base
		db.plugin = pluginBase
	}
	db.userInfo = &userInfoStore{db: db}
	db.sessions = newSessionStore(db, opts.PGSchema)
	return db, nil
}

// SigningKeys is the signing_keys table (user-token public keys). On PostgreSQL it
// also implements signingkeys.ChangeNotifier.
func (db *DB) SigningKeys() signingkeys.KeyStore { return db.signing }

// PluginKeys is backstage_backend_public_keys__keys (plugin service-token public keys).
// On PostgreSQL it also implements signingkeys.ChangeNotifier.
func (db *DB) PluginKeys() signingkeys.KeyStore { return db.plugin }

// UserInfo is the user_info table.
func (db *DB) UserInfo() tokens.UserInfoStore { return db.userInfo }

// Describe names the database for logs, without credentials, e.g.
// "postgres 127.0.0.1:5432/backstage_plugin_auth schema auth" or "sqlite data/auth.sqlite".
func (db *DB) Describe() string { return db.describe }

// Ping is the readiness check: one round trip that fails while the database is
// unreachable.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.sql.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("authdb: ping %s: %w", db.describe, err)
	}
	return nil
}

// Stats are the connection pool's statistics (metrics read them at scrape time).
func (db *DB) Stats() sql.DBStats { return db.sql.Stats() }

// Close stops the LISTEN goroutines and closes the connections.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.mu.Lock()
		db.closed = true
		db.mu.Unlock()
		if db.closeStop != nil {
			db.closeStop()
		}
		db.wg.Wait()
		db.closeErr = db.sql.Close()
	})
	return db.closeErr
}

// isPG reports the dialect. Queries are written with $n placeholders, which both pgx
// and modernc accept; only types and a few statements differ.
func (db *DB) isPG() bool { return db.dialect == dialectPG }

// ---- SQLite ----

func (db *DB) openSQLite(ctx context.Context, opts Options) error {
	path := strings.TrimSpace(opts.SQLitePath)
	if path == "" {
		return errors.New("authdb: sqlite needs a file path or :memory:")
	}
	if strings.ContainsAny(path, "?#") {
		return fmt.Errorf("authdb: sqlite path %q must not contain '?' or '#'", path)
	}
	memory := path == ":memory:"
	db.describe = "sqlite " + path
	params := []string{
		"_pragma=" + "busy_timeout(" + strconv.Itoa(sqliteBusyTimeoutMS) + ")",
		"_pragma=foreign_keys(1)",
		// Transactions (only the migration uses one) take the write lock at BEGIN, so
		// two processes migrating one file serialise instead of failing with BUSY.
		"_txlock=immediate",
	}
	if !memory {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return fmt.Errorf("authdb: creating directory for %s: %w", path, err)
			}
		}
		params = append(params, "_pragma=journal_mode(WAL)", "_pragma=synchronous(NORMAL)")
	}
	sqlDB, err := sql.Open("sqlite", path+"?"+strings.Join(params, "&"))
	if err != nil {
		return fmt.Errorf("authdb: opening %s: %w", db.describe, err)
	}
	if memory {
		// Every connection to ":memory:" is its own empty database: keep exactly one,
		// forever.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	} else {
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return fmt.Errorf("authdb: opening %s: %w", db.describe, err)
	}
	db.sql = sqlDB
	db.logger.Info("database opened", "database", db.describe)
	return nil
}

// ---- PostgreSQL ----

func (db *DB) openPG(ctx context.Context, opts Options, attempts int) error {
	if strings.TrimSpace(opts.PGConnString) == "" {
		return errors.New("authdb: pg needs a connection string")
	}
	cfg, err := pgx.ParseConfig(opts.PGConnString)
	if err != nil {
		// pgconn already redacts the password in its parse errors.
		return fmt.Errorf("authdb: invalid PostgreSQL connection string: %w", err)
	}
	adminDB := cfg.Database
	if opts.PGDatabase != "" {
		cfg.Database = opts.PGDatabase
	}
	if cfg.Database == "" {
		return errors.New("authdb: no PostgreSQL database named (set the database in the connection string or PGDatabase)")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = applicationName
	}
	if opts.PGSchema != "" {
		// Backstage's schema mode sets searchPath: [schema]; knex then creates its
		// tables, knex_migrations included, in that schema.
		cfg.RuntimeParams["search_path"] = pgx.Identifier{opts.PGSchema}.Sanitize()
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	db.describe = "postgres " + addr + "/" + cfg.Database
	if opts.PGSchema != "" {
		db.describe += " schema " + opts.PGSchema
	}
	db.pgConfig = cfg
	password := cfg.Password

	connect := func(ctx context.Context) error {
		if opts.EnsureExists {
			if err := ensureDatabase(ctx, cfg, adminDB); err != nil {
				return err
			}
		}
		sqlDB := stdlib.OpenDB(*cfg.Copy())
		if err := sqlDB.PingContext(ctx); err != nil {
			_ = sqlDB.Close()
			return err
		}
		if opts.PGSchema != "" {
			if err := ensureSchema(ctx, sqlDB, opts.PGSchema); err != nil {
				_ = sqlDB.Close()
				return err
			}
		}
		sqlDB.SetMaxOpenConns(10)
		sqlDB.SetMaxIdleConns(5)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		db.sql = sqlDB
		return nil
	}

	var lastErr error
	wait := db.backoff
	n := 0
	for n < attempts {
		n++
		lastErr = connect(ctx)
		if lastErr == nil {
			db.logger.Info("database connected", "database", db.describe, "attempts", n)
			return nil
		}
		if ctx.Err() != nil || permanentPGError(lastErr) || n == attempts {
			break
		}
		db.logger.Warn("database connection failed, retrying",
			"database", db.describe, "attempt", n, "of", attempts, "retry_in", wait.String(),
			"error", redact(lastErr.Error(), password))
		if err := sleepCtx(ctx, wait); err != nil {
			lastErr = err
			break
		}
		wait = min(wait*2, maxBackoff)
	}
	plural := "s"
	if n == 1 {
		plural = ""
	}
	return &connectError{
		msg: fmt.Sprintf("authdb: cannot connect to PostgreSQL at %s/%s after %d attempt%s: %s",
			addr, cfg.Database, n, plural, redact(lastErr.Error(), password)),
		err: lastErr,
	}
}

// connectError carries the redacted message but still unwraps to the driver error.
type connectError struct {
	msg string
	err error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() error { return e.err }

// redact removes the password from a message. pgx keeps it out of its errors; this is
// a second line of defence for anything else that might echo the connection string.
func redact(msg, password string) string {
	if len(password) < 4 {
		return msg
	}
	return strings.ReplaceAll(msg, password, "********")
}

// permanentPGError reports errors retrying will not fix: the server answered, and said
// no (bad password, missing database, no permission). "The database system is starting
// up" (57P03) and "too many connections" (53300) are worth retrying.
func permanentPGError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "57P03", "53300", "08006", "08001", "08004":
		return false
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ensureDatabase creates cfg.Database when missing, like Backstage's
// ensurePgDatabaseExists, from a connection to adminDB (or "postgres").
func ensureDatabase(ctx context.Context, cfg *pgx.ConnConfig, adminDB string) error {
	admin := cfg.Copy()
	if adminDB == "" || adminDB == cfg.Database {
		adminDB = "postgres"
	}
	admin.Database = adminDB
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", cfg.Database).Scan(&exists); err != nil {
		return fmt.Errorf("checking whether database %q exists: %w", cfg.Database, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		// Another replica created it first.
		if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
			return nil
		}
		return fmt.Errorf("creating database %q: %w", cfg.Database, err)
	}
	return nil
}

func ensureSchema(ctx context.Context, sqlDB *sql.DB, schema string) error {
	if _, err := sqlDB.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		// CREATE SCHEMA IF NOT EXISTS can still collide with a concurrent creator.
		if errors.As(err, &pgErr) && (pgErr.Code == "42P06" || pgErr.Code == "23505") {
			return nil
		}
		return fmt.Errorf("creating schema %q: %w", schema, err)
	}
	return nil
}
