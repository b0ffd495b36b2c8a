package authdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/authserver/store"
)

// The authorization server's tables (oauth_authorization_sessions,
// oidc_authorization_codes, offline_sessions), written as Backstage's OidcDatabase and
// OfflineSessionDatabase write them, so a Node replica reads our rows and we read its:
//   - JS Dates (expires_at) are timestamptz on PostgreSQL and, on SQLite, what
//     better-sqlite3 binds for a Date: epoch milliseconds;
//   - knex's fn.now() (created_at, last_used_at) is CURRENT_TIMESTAMP, which on SQLite
//     is "YYYY-MM-DD HH:MM:SS" text;
//   - booleans are boolean on PostgreSQL and 0/1 on SQLite.
//
// Conditions on times are evaluated in Go on the row read, never in SQL, because on
// SQLite the same column may hold integers (Node's Dates) and text (CURRENT_TIMESTAMP),
// which SQLite does not compare as times.

// oauthStore implements the three store interfaces over one DB.
type oauthStore struct{ db *DB }

var (
	_ store.Sessions        = (*oauthStore)(nil)
	_ store.Codes           = (*oauthStore)(nil)
	_ store.OfflineSessions = (*oauthStore)(nil)
)

// OAuthSessions is oauth_authorization_sessions.
func (db *DB) OAuthSessions() store.Sessions { return &oauthStore{db: db} }

// OIDCCodes is oidc_authorization_codes.
func (db *DB) OIDCCodes() store.Codes { return &oauthStore{db: db} }

// OfflineSessions is offline_sessions.
func (db *DB) OfflineSessions() store.OfflineSessions { return &oauthStore{db: db} }

// dateArg is a JS Date as knex binds it.
func (s *oauthStore) dateArg(t time.Time) any {
	if s.db.isPG() {
		return t.UTC()
	}
	return t.UnixMilli()
}

// nowArg is knex's fn.now() for an explicit time.
func (s *oauthStore) nowArg(t time.Time) any {
	t = t.UTC().Truncate(time.Second)
	if s.db.isPG() {
		return t
	}
	return t.Format(sqliteSecondsLayout)
}

func (s *oauthStore) boolArg(b bool) any {
	if s.db.isPG() {
		return b
	}
	if b {
		return 1
	}
	return 0
}

func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

const sessionColumns = `id, client_id, user_entity_ref, redirect_uri, scope, state, response_type, code_challenge, code_challenge_method, nonce, status, expires_at`

func (s *oauthStore) CreateSession(ctx context.Context, sess store.Session) error {
	if sess.ID == "" || sess.ClientID == "" || sess.ExpiresAt.IsZero() {
		return errors.New("authdb: CreateSession: id, client id and expiry are required")
	}
	status := sess.Status
	if status == "" {
		status = store.StatusPending
	}
	_, err := s.db.sql.ExecContext(ctx, `INSERT INTO oauth_authorization_sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		sess.ID, sess.ClientID, nullable(sess.UserEntityRef), sess.RedirectURI, nullable(sess.Scope), nullable(sess.State),
		sess.ResponseType, nullable(sess.CodeChallenge), nullable(sess.CodeChallengeMethod), nullable(sess.Nonce),
		status, s.dateArg(sess.ExpiresAt))
	if err != nil {
		return fmt.Errorf("authdb: creating authorization session: %w", err)
	}
	return nil
}

func (s *oauthStore) GetSession(ctx context.Context, id string) (store.Session, error) {
	var (
		out                                                  store.Session
		user, scope, state, challenge, method, nonce, status sql.NullString
		expires                                              any
	)
	err := s.db.sql.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM oauth_authorization_sessions WHERE id = $1`, id).
		Scan(&out.ID, &out.ClientID, &user, &out.RedirectURI, &scope, &state, &out.ResponseType, &challenge, &method, &nonce, &status, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("authdb: authorization session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("authdb: reading authorization session: %w", err)
	}
	out.UserEntityRef, out.Scope, out.State = user.String, scope.String, state.String
	out.CodeChallenge, out.CodeChallengeMethod, out.Nonce, out.Status = challenge.String, method.String, nonce.String, status.String
	if out.ExpiresAt, err = parseStoredTime(expires); err != nil {
		return store.Session{}, fmt.Errorf("authdb: authorization session %s: expires_at: %w", id, err)
	}
	return out, nil
}

func (s *oauthStore) DecideSession(ctx context.Context, id, status, userEntityRef string) (bool, error) {
	res, err := s.db.sql.ExecContext(ctx, `UPDATE oauth_authorization_sessions SET status = $1, user_entity_ref = $2 WHERE id = $3 AND status = 'pending'`,
		status, nullable(userEntityRef), id)
	if err != nil {
		return false, fmt.Errorf("authdb: updating authorization session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("authdb: updating authorization session: %w", err)
	}
	return n == 1, nil
}

func (s *oauthStore) DeleteExpiredSessions(ctx context.Context, before time.Time) (int64, error) {
	if s.db.isPG() {
		return s.exec(ctx, "deleting expired authorization sessions", `DELETE FROM oauth_authorization_sessions WHERE expires_at < $1`, before.UTC())
	}
	return s.deleteWhere(ctx, "oauth_authorization_sessions", `SELECT id, expires_at, expires_at FROM oauth_authorization_sessions`,
		func(a, _ time.Time) bool { return a.Before(before) })
}

// ---- oidc_authorization_codes ----

func (s *oauthStore) CreateCode(ctx context.Context, c store.Code) error {
	if c.Code == "" || c.SessionID == "" || c.ExpiresAt.IsZero() {
		return errors.New("authdb: CreateCode: code, session id and expiry are required")
	}
	if _, err := s.db.sql.ExecContext(ctx, `INSERT INTO oidc_authorization_codes (code, session_id, expires_at, used) VALUES ($1, $2, $3, $4)`,
		c.Code, c.SessionID, s.dateArg(c.ExpiresAt), s.boolArg(c.Used)); err != nil {
		return fmt.Errorf("authdb: creating authorization code: %w", err)
	}
	return nil
}

func (s *oauthStore) GetCode(ctx context.Context, code string) (store.Code, error) {
	var (
		out     store.Code
		expires any
		used    any
	)
	err := s.db.sql.QueryRowContext(ctx, `SELECT code, session_id, expires_at, used FROM oidc_authorization_codes WHERE code = $1`, code).
		Scan(&out.Code, &out.SessionID, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Code{}, fmt.Errorf("authdb: authorization code: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Code{}, fmt.Errorf("authdb: reading authorization code: %w", err)
	}
	if out.ExpiresAt, err = parseStoredTime(expires); err != nil {
		return store.Code{}, fmt.Errorf("authdb: authorization code: expires_at: %w", err)
	}
	out.Used = truthy(used)
	return out, nil
}

// truthy reads a boolean column as JavaScript's Boolean(row.used) does.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != "" && x != "0"
	case []byte:
		return len(x) > 0 && string(x) != "0"
	}
	return false
}

func (s *oauthStore) RedeemCode(ctx context.Context, code string) (bool, error) {
	q := `UPDATE oidc_authorization_codes SET used = true WHERE code = $1 AND (used IS NULL OR used = false)`
	if !s.db.isPG() {
		// The column default is the text '0'; NUMERIC affinity stores it as 0.
		q = `UPDATE oidc_authorization_codes SET used = 1 WHERE code = $1 AND (used IS NULL OR used = 0 OR used = '0')`
	}
	n, err := s.exec(ctx, "redeeming authorization code", q, code)
	return n == 1, err
}

// ---- offline_sessions ----

func (s *oauthStore) CreateOfflineSession(ctx context.Context, o store.OfflineSession, maxPerUser int) error {
	if o.ID == "" || o.UserEntityRef == "" || o.TokenHash == "" {
		return errors.New("authdb: CreateOfflineSession: id, user and token hash are required")
	}
	if maxPerUser <= 0 {
		return errors.New("authdb: CreateOfflineSession: maxPerUser must be positive")
	}
	now := s.db.now()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	if o.LastUsedAt.IsZero() {
		o.LastUsedAt = now
	}
	tx, err := s.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("authdb: creating offline session: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if o.OIDCClientID != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM offline_sessions WHERE oidc_client_id = $1 AND user_entity_ref = $2`, o.OIDCClientID, o.UserEntityRef); err != nil {
			return fmt.Errorf("authdb: creating offline session: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, last_used_at FROM offline_sessions WHERE user_entity_ref = $1`, o.UserEntityRef)
	if err != nil {
		return fmt.Errorf("authdb: creating offline session: %w", err)
	}
	type idAt struct {
		id string
		at time.Time
	}
	var existing []idAt
	for rows.Next() {
		var id string
		var at any
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return fmt.Errorf("authdb: creating offline session: %w", err)
		}
		t, _ := parseStoredTime(at) // unreadable times sort first and are evicted first
		existing = append(existing, idAt{id, t})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("authdb: creating offline session: %w", err)
	}
	if extra := len(existing) - (maxPerUser - 1); extra > 0 {
		// Oldest last_used_at first, then id, as Backstage orders them.
		sort.Slice(existing, func(i, j int) bool {
			a, b := existing[i], existing[j]
			if !a.at.Equal(b.at) {
				return a.at.Before(b.at)
			}
			return a.id < b.id
		})
		for _, e := range existing[:extra] {
			if _, err := tx.ExecContext(ctx, `DELETE FROM offline_sessions WHERE id = $1`, e.id); err != nil {
				return fmt.Errorf("authdb: creating offline session: %w", err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO offline_sessions (id, user_entity_ref, oidc_client_id, token_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		o.ID, o.UserEntityRef, nullable(o.OIDCClientID), o.TokenHash, s.nowArg(o.CreatedAt), s.nowArg(o.LastUsedAt)); err != nil {
		return fmt.Errorf("authdb: creating offline session: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("authdb: creating offline session: %w", err)
	}
	return nil
}

func (s *oauthStore) GetOfflineSession(ctx context.Context, id string) (store.OfflineSession, error) {
	var (
		out           store.OfflineSession
		client        sql.NullString
		created, used any
	)
	err := s.db.sql.QueryRowContext(ctx, `SELECT id, user_entity_ref, oidc_client_id, token_hash, created_at, last_used_at FROM offline_sessions WHERE id = $1`, id).
		Scan(&out.ID, &out.UserEntityRef, &client, &out.TokenHash, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return store.OfflineSession{}, fmt.Errorf("authdb: offline session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.OfflineSession{}, fmt.Errorf("authdb: reading offline session: %w", err)
	}
	out.OIDCClientID = client.String
	if out.CreatedAt, err = parseStoredTime(created); err != nil {
		return store.OfflineSession{}, fmt.Errorf("authdb: offline session: created_at: %w", err)
	}
	if out.LastUsedAt, err = parseStoredTime(used); err != nil {
		return store.OfflineSession{}, fmt.Errorf("authdb: offline session: last_used_at: %w", err)
	}
	return out, nil
}

func (s *oauthStore) RotateOfflineSession(ctx context.Context, id, oldHash, newHash string, now time.Time) (bool, error) {
	n, err := s.exec(ctx, "rotating offline session",
		`UPDATE offline_sessions SET token_hash = $1, last_used_at = $2 WHERE id = $3 AND token_hash = $4`,
		newHash, s.nowArg(now), id, oldHash)
	return n == 1, err
}

func (s *oauthStore) DeleteOfflineSession(ctx context.Context, id string) (int64, error) {
	return s.exec(ctx, "deleting offline session", `DELETE FROM offline_sessions WHERE id = $1`, id)
}

func (s *oauthStore) DeleteClientUserOfflineSessions(ctx context.Context, client, user string) (int64, error) {
	return s.exec(ctx, "deleting offline sessions", `DELETE FROM offline_sessions WHERE oidc_client_id = $1 AND user_entity_ref = $2`, client, user)
}

func (s *oauthStore) DeleteExpiredOfflineSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error) {
	if s.db.isPG() {
		return s.exec(ctx, "deleting expired offline sessions",
			`DELETE FROM offline_sessions WHERE last_used_at < $1 OR created_at < $2`, idleBefore.UTC(), createdBefore.UTC())
	}
	return s.deleteWhere(ctx, "offline_sessions", `SELECT id, last_used_at, created_at FROM offline_sessions`,
		func(used, created time.Time) bool { return used.Before(idleBefore) || created.Before(createdBefore) })
}

func (s *oauthStore) exec(ctx context.Context, what, q string, args ...any) (int64, error) {
	res, err := s.db.sql.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("authdb: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("authdb: %s: %w", what, err)
	}
	return n, nil
}

// deleteWhere is the SQLite cleanup: query returns (id, time a, time b); rows for
// which expired(a, b) holds are deleted by id. Unreadable times count as expired.
func (s *oauthStore) deleteWhere(ctx context.Context, table, query string, expired func(a, b time.Time) bool) (int64, error) {
	rows, err := s.db.sql.QueryContext(ctx, query)
	if err != nil {
		return 0, fmt.Errorf("authdb: cleaning up %s: %w", table, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		var a, b any
		if err := rows.Scan(&id, &a, &b); err != nil {
			rows.Close()
			return 0, fmt.Errorf("authdb: cleaning up %s: %w", table, err)
		}
		ta, errA := parseStoredTime(a)
		tb, errB := parseStoredTime(b)
		if errA != nil || errB != nil || expired(ta, tb) {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("authdb: cleaning up %s: %w", table, err)
	}
	var total int64
	for _, id := range ids {
		n, err := s.exec(ctx, "cleaning up "+table, `DELETE FROM `+table+` WHERE id = $1`, id)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
