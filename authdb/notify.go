package authdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spectrocloud-labs/backstage-auth-go/signingkeys"
)

// notifyingKeyStore is a PostgreSQL key store that tells other processes about changes
// with NOTIFY on its own channel. SQLite stores are plain keyStores, so a type
// assertion to signingkeys.ChangeNotifier fails there and callers poll instead.
type notifyingKeyStore struct {
	*keyStore
	channel string
}

var (
	_ signingkeys.KeyStore       = (*notifyingKeyStore)(nil)
	_ signingkeys.ChangeNotifier = (*notifyingKeyStore)(nil)
)

// channelName keeps deployments that share one database in different schemas apart.
func channelName(base, schema string) string {
	if schema == "" {
		return base
	}
	name := base + "__" + schema
	if len(name) > 63 { // NAMEDATALEN-1; pg would truncate the LISTEN side only
		name = name[:63]
	}
	return name
}

// Notify sends pg_notify on the store's channel. The payload is this DB's instance id,
// so its own listeners skip it.
func (s *notifyingKeyStore) Notify(ctx context.Context) error {
	if _, err := s.db.sql.ExecContext(ctx, "SELECT pg_notify($1, $2)", s.channel, s.db.instanceID); err != nil {
		return fmt.Errorf("authdb: notify %s: %w", s.channel, err)
	}
	return nil
}

// Listen opens a dedicated connection, runs LISTEN and returns; a background goroutine
// then calls onChange for every notification from another DB, and once right after
// every (re)connect, including the first, because a notification sent while no
// connection listened is otherwise lost. The connection is pinged when idle and
// re-established with backoff when it fails. It stops when ctx ends or the DB closes.
// An error is returned only when the first connection cannot be made.
func (s *notifyingKeyStore) Listen(ctx context.Context, onChange func()) error {
	if onChange == nil {
		return errors.New("authdb: Listen: nil onChange")
	}
	return s.db.listen(ctx, s.channel, func(_ string, own bool) {
		if !own {
			onChange()
		}
	})
}

// listen is Listen for any channel: onNotify gets the part of a payload after
// "<instance id>|" ("" when there is none), own telling whether this DB sent it, and
// ("", false) after every (re)connect.
func (db *DB) listen(ctx context.Context, channel string, onNotify func(payload string, own bool)) error {
	conn, err := db.listenConn(ctx, channel)
	if err != nil {
		return fmt.Errorf("authdb: listen %s on %s: %w", channel, db.describe, err)
	}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		_ = conn.Close(context.WithoutCancel(ctx))
		return fmt.Errorf("authdb: listen %s: %s is closed", channel, db.describe)
	}
	db.wg.Add(1)
	db.mu.Unlock()
	ctx, stop := context.WithCancel(ctx)
	go func() {
		defer db.wg.Done()
		defer stop()
		// Close stops listeners even when the caller's ctx lives on.
		go func() {
			select {
			case <-db.closeCtx.Done():
				stop()
			case <-ctx.Done():
			}
		}()
		db.listenLoop(ctx, conn, channel, onNotify)
	}()
	return nil
}

func (db *DB) listenConn(ctx context.Context, channel string) (*pgx.Conn, error) {
	cfg := db.pgConfig.Copy()
	cfg.RuntimeParams["application_name"] = applicationName + "-listen"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

func (db *DB) listenLoop(ctx context.Context, conn *pgx.Conn, channel string, onNotify func(string, bool)) {
	defer func() {
		if conn != nil {
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = conn.Close(closeCtx)
			cancel()
		}
	}()
	wait := db.backoff
	for {
		if conn == nil {
			if sleepCtx(ctx, wait) != nil {
				return
			}
			c, err := db.listenConn(ctx, channel)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				wait = min(wait*2, maxBackoff)
				db.logger.Warn("LISTEN reconnect failed", "channel", channel, "database", db.describe,
					"retry_in", wait.String(), "error", err)
				continue
			}
			conn = c
			wait = db.backoff
			db.logger.Info("LISTEN reconnected", "channel", channel, "database", db.describe)
		}
		// (Re)connected: whatever happened while nobody listened is unknown.
		onNotify("", false)
		if err := db.waitNotifications(ctx, conn, onNotify); err != nil {
			if ctx.Err() != nil {
				return
			}
			db.logger.Warn("LISTEN connection lost", "channel", channel, "database", db.describe, "error", err)
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = conn.Close(closeCtx)
			cancel()
			conn = nil
		}
	}
}

// waitNotifications returns when the connection fails or ctx ends.
func (db *DB) waitNotifications(ctx context.Context, conn *pgx.Conn, onNotify func(string, bool)) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, db.healthInterval)
		n, err := conn.WaitForNotification(wctx)
		timedOut := wctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			from, rest, _ := strings.Cut(n.Payload, "|")
			onNotify(rest, from == db.instanceID)
			continue
		}
		if !timedOut || conn.IsClosed() {
			return err
		}
		// Idle for a while: make sure the connection is still alive.
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("health check: %w", err)
		}
	}
}
