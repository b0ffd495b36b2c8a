package authdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

type keyKind int

const (
	// signingKind is signing_keys: kid, key (JSON), created_at (a timestamp column).
	signingKind keyKind = iota + 1
	// pluginKind is backstage_backend_public_keys__keys: id, key (JSON), expires_at
	// (an ISO-8601 string, as Node's Date.toISOString writes it).
	pluginKind
)

// keyStore is one of the two public-key tables.
type keyStore struct {
	db   *DB
	kind keyKind
}

var _ signingkeys.KeyStore = (*keyStore)(nil)

func (s *keyStore) table() string {
	if s.kind == pluginKind {
		return tablePluginKeys
	}
	return tableSigningKeys
}

// removeBatch bounds the IN list of one DELETE (SQLite allows 32766 parameters).
const removeBatch = 500

// AddKey inserts the public JWK exactly as given. A duplicate kid is signingkeys.ErrKeyExists.
func (s *keyStore) AddKey(ctx context.Context, key signingkeys.StoredKey) error {
	if key.KID == "" {
		return errors.New("authdb: AddKey: empty kid")
	}
	if !json.Valid(key.JWK) {
		return fmt.Errorf("authdb: AddKey %s: JWK is not valid JSON", key.KID)
	}
	var query string
	var at any
	switch s.kind {
	case signingKind:
		// created_at is timestamptz(0) on pg (which would round) and second-precision
		// CURRENT_TIMESTAMP text on SQLite: keep whole seconds on both.
		created := key.CreatedAt
		if created.IsZero() {
			created = s.db.now()
		}
		created = created.UTC().Truncate(time.Second)
		query = `INSERT INTO signing_keys (kid, key, created_at) VALUES ($1, $2, $3)`
		if s.db.isPG() {
			at = created
		} else {
			at = created.Format(sqliteSecondsLayout)
		}
	case pluginKind:
		if key.ExpiresAt.IsZero() {
			return fmt.Errorf("authdb: AddKey %s: plugin keys need ExpiresAt", key.KID)
		}
		query = `INSERT INTO backstage_backend_public_keys__keys (id, key, expires_at) VALUES ($1, $2, $3)`
		at = formatISO(key.ExpiresAt)
	}
	if _, err := s.db.sql.ExecContext(ctx, query, key.KID, string(key.JWK), at); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("authdb: %s %s: %w", s.table(), key.KID, signingkeys.ErrKeyExists)
		}
		return fmt.Errorf("authdb: adding key %s to %s: %w", key.KID, s.table(), err)
	}
	return nil
}

// ListKeys returns every stored key, oldest first. Rows that cannot be read (a time or
// JSON another writer mangled) are skipped with a warning rather than failing the JWKS.
func (s *keyStore) ListKeys(ctx context.Context) ([]signingkeys.StoredKey, error) {
	query := `SELECT kid, key, created_at FROM signing_keys ORDER BY created_at, kid`
	if s.kind == pluginKind {
		query = `SELECT id, key, expires_at FROM backstage_backend_public_keys__keys ORDER BY expires_at, id`
	}
	rows, err := s.db.sql.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("authdb: listing %s: %w", s.table(), err)
	}
	defer rows.Close()
	keys := []signingkeys.StoredKey{}
	for rows.Next() {
		var kid, jwk string
		var at any
		if err := rows.Scan(&kid, &jwk, &at); err != nil {
			return nil, fmt.Errorf("authdb: listing %s: %w", s.table(), err)
		}
		t, err := parseStoredTime(at)
		if err != nil {
			s.db.logger.Warn("skipping stored key with an unreadable time", "table", s.table(), "kid", kid, "error", err)
			continue
		}
		if !json.Valid([]byte(jwk)) {
			s.db.logger.Warn("skipping stored key whose JWK is not JSON", "table", s.table(), "kid", kid)
			continue
		}
		k := signingkeys.StoredKey{KID: kid, JWK: json.RawMessage(jwk)}
		if s.kind == pluginKind {
			k.ExpiresAt = t
		} else {
			k.CreatedAt = t
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("authdb: listing %s: %w", s.table(), err)
	}
	return keys, nil
}

// RemoveKeys deletes the given kids; unknown kids and an empty list are no-ops.
func (s *keyStore) RemoveKeys(ctx context.Context, kids []string) error {
	column := "kid"
	if s.kind == pluginKind {
		column = "id"
	}
	for start := 0; start < len(kids); start += removeBatch {
		chunk := kids[start:min(start+removeBatch, len(kids))]
		var b strings.Builder
		args := make([]any, len(chunk))
		fmt.Fprintf(&b, "DELETE FROM %s WHERE %s IN (", s.table(), column)
		for i, kid := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(i+1))
			args[i] = kid
		}
		b.WriteString(")")
		if _, err := s.db.sql.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("authdb: removing keys from %s: %w", s.table(), err)
		}
	}
	return nil
}

// isUniqueViolation recognises a primary-key clash on either database.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		code := sqErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || code == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}
