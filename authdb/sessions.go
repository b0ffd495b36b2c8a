package authdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/sessions"
)

// sessionStore keeps sign-in sessions in Backstage's own sessions table (sid, sess,
// expired: express-session's store, which the Node auth backend creates and does not
// otherwise fill), so the schema stays Node's. Our rows are told apart by their sid
// prefix: "bag:s:<id>" is a live session, "bag:r:<id>" the tombstone of a revoked one;
// sess is our JSON, expired the session's end (Node's store deletes expired rows as we
// do). Express-session sids never take this form, so neither side reads the other's
// rows.
type sessionStore struct {
	db      *DB
	channel string // "" on SQLite: no notifications
}

var (
	_ sessions.Store    = (*sessionStore)(nil)
	_ sessions.Notifier = (*pgSessionStore)(nil)
)

// pgSessionStore adds LISTEN to the PostgreSQL store.
type pgSessionStore struct{ *sessionStore }

const (
	sidLive    = "bag:s:"
	sidRevoked = "bag:r:"
)

type sessJSON struct {
	Kind      string `json:"kind"`
	User      string `json:"user,omitempty"`
	Provider  string `json:"provider,omitempty"`
	CreatedAt string `json:"createdAt,omitempty"`
	RevokedAt string `json:"revokedAt,omitempty"`
}

const sessKind = "backstage-auth-go"

func newSessionStore(db *DB, schema string) sessions.Store {
	s := &sessionStore{db: db}
	if db.isPG() {
		s.channel = channelName("backstage_auth_sessions", schema)
		return &pgSessionStore{s}
	}
	return s
}

// Sessions is the sign-in session store (the sessions table). On PostgreSQL it also
// implements sessions.Notifier.
func (db *DB) Sessions() sessions.Store { return db.sessions }

// Listen implements sessions.Notifier.
func (s *pgSessionStore) Listen(ctx context.Context, onNotify func(payload string, own bool)) error {
	if onNotify == nil {
		return errors.New("authdb: sessions Listen: nil onNotify")
	}
	return s.db.listen(ctx, s.channel, onNotify)
}

func (s *sessionStore) at(t time.Time) any {
	t = t.UTC().Truncate(time.Millisecond)
	if s.db.isPG() {
		return t
	}
	return t.Format(sqliteMillisLayout)
}

// Insert implements sessions.Store.
func (s *sessionStore) Insert(ctx context.Context, r sessions.Record) error {
	if !sessions.ValidID(r.ID) {
		return errors.New("authdb: invalid session id")
	}
	sess, err := json.Marshal(sessJSON{Kind: sessKind, User: r.UserEntityRef, Provider: r.Provider, CreatedAt: formatISO(r.CreatedAt)})
	if err != nil {
		return err
	}
	if _, err := s.db.sql.ExecContext(ctx, `INSERT INTO sessions (sid, sess, expired) VALUES ($1, $2, $3)`,
		sidLive+r.ID, string(sess), s.at(r.ExpiresAt)); err != nil {
		return fmt.Errorf("authdb: recording session: %w", err)
	}
	return nil
}

// Revoke implements sessions.Store: in one transaction, the tombstone (unless one
// exists), the live record deleted and, on PostgreSQL, the notification, which is
// delivered when the transaction commits.
func (s *sessionStore) Revoke(ctx context.Context, id string, expiresAt, at time.Time) (string, bool, error) {
	if !sessions.ValidID(id) {
		return "", false, errors.New("authdb: invalid session id")
	}
	var existed bool
	var user string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var sess string
		var expired any
		err := tx.QueryRowContext(ctx, `SELECT sess, expired FROM sessions WHERE sid = $1`, sidLive+id).Scan(&sess, &expired)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			existed = true
			if t, err := parseStoredTime(expired); err == nil {
				expiresAt = t
			}
			var sj sessJSON
			if json.Unmarshal([]byte(sess), &sj) == nil {
				user = sj.User
			}
		}
		if err := s.tombstone(ctx, tx, id, sess, expiresAt, at); err != nil {
			return err
		}
		return s.notify(ctx, tx, []sessions.Revoked{{ID: id, ExpiresAt: expiresAt}})
	})
	if err != nil {
		return "", false, fmt.Errorf("authdb: revoking session: %w", err)
	}
	return user, existed, nil
}

// RevokeUser implements sessions.Store. The user is in sess, which has no index: the
// live rows are scanned (offboarding is rare; refreshes never do this).
func (s *sessionStore) RevokeUser(ctx context.Context, userRef string, at time.Time) ([]sessions.Revoked, int, error) {
	if userRef == "" {
		return nil, 0, errors.New("authdb: RevokeUser: empty user entity ref")
	}
	var revs []sessions.Revoked
	var offline int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		revs = revs[:0]
		// What Backstage's offline-sessions/revoke deletes (refresh tokens of its OIDC
		// server, when a Node backend shares the database).
		res, err := tx.ExecContext(ctx, `DELETE FROM offline_sessions WHERE user_entity_ref = $1`, userRef)
		if err != nil {
			return err
		}
		offline, _ = res.RowsAffected()
		rows, err := tx.QueryContext(ctx, `SELECT sid, sess, expired FROM sessions WHERE sid LIKE 'bag:s:%' AND expired > $1`, s.at(at))
		if err != nil {
			return err
		}
		type row struct {
			id, sess string
			exp      time.Time
		}
		var mine []row
		for rows.Next() {
			var sid, sess string
			var expired any
			if err := rows.Scan(&sid, &sess, &expired); err != nil {
				rows.Close()
				return err
			}
			var sj sessJSON
			if json.Unmarshal([]byte(sess), &sj) != nil || sj.User != userRef {
				continue
			}
			exp, err := parseStoredTime(expired)
			if err != nil {
				continue
			}
			mine = append(mine, row{strings.TrimPrefix(sid, sidLive), sess, exp})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range mine {
			if err := s.tombstone(ctx, tx, m.id, m.sess, m.exp, at); err != nil {
				return err
			}
			revs = append(revs, sessions.Revoked{ID: m.id, ExpiresAt: m.exp})
		}
		return s.notify(ctx, tx, revs)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("authdb: revoking the sessions of %s: %w", userRef, err)
	}
	return revs, int(offline), nil
}

// tombstone writes the revoked row for id (keeping the live row's JSON, stamped) and
// deletes the live one.
func (s *sessionStore) tombstone(ctx context.Context, tx *sql.Tx, id, sess string, expiresAt, at time.Time) error {
	var sj sessJSON
	if sess == "" || json.Unmarshal([]byte(sess), &sj) != nil {
		sj = sessJSON{Kind: sessKind}
	}
	sj.RevokedAt = formatISO(at)
	b, err := json.Marshal(sj)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (sid, sess, expired) VALUES ($1, $2, $3) ON CONFLICT (sid) DO NOTHING`,
		sidRevoked+id, string(b), s.at(expiresAt)); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE sid = $1`, sidLive+id)
	return err
}

func (s *sessionStore) notify(ctx context.Context, tx *sql.Tx, revs []sessions.Revoked) error {
	if s.channel == "" || len(revs) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", s.channel, s.db.instanceID+"|"+sessions.EncodePayload(revs))
	return err
}

func (s *sessionStore) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ListRevoked implements sessions.Store.
func (s *sessionStore) ListRevoked(ctx context.Context, now time.Time) ([]sessions.Revoked, error) {
	rows, err := s.db.sql.QueryContext(ctx, `SELECT sid, expired FROM sessions WHERE sid LIKE 'bag:r:%' AND expired > $1`, s.at(now))
	if err != nil {
		return nil, fmt.Errorf("authdb: listing revoked sessions: %w", err)
	}
	defer rows.Close()
	var out []sessions.Revoked
	for rows.Next() {
		var sid string
		var expired any
		if err := rows.Scan(&sid, &expired); err != nil {
			return nil, fmt.Errorf("authdb: listing revoked sessions: %w", err)
		}
		exp, err := parseStoredTime(expired)
		id := strings.TrimPrefix(sid, sidRevoked)
		if err != nil || !sessions.ValidID(id) {
			continue
		}
		out = append(out, sessions.Revoked{ID: id, ExpiresAt: exp})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("authdb: listing revoked sessions: %w", err)
	}
	return out, nil
}

// Prune implements sessions.Store (our rows only; Node prunes its own).
func (s *sessionStore) Prune(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE sid LIKE 'bag:%' AND expired < $1`, s.at(before))
	if err != nil {
		return 0, fmt.Errorf("authdb: pruning sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
