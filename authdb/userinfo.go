package authdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spectrocloud-labs/backstage-auth-go/tokens"
)

// userInfoStore is the user_info table, written as Backstage's UserInfoDatabase does:
// insert(...).onConflict("user_entity_ref").merge() sets user_info and updated_at and
// leaves created_at at its insert-time default.
type userInfoStore struct{ db *DB }

var _ tokens.UserInfoStore = (*userInfoStore)(nil)

const upsertUserInfo = `INSERT INTO user_info (user_entity_ref, user_info, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (user_entity_ref) DO UPDATE SET user_info = excluded.user_info, updated_at = excluded.updated_at`

// UpsertUserInfo stores userInfo byte for byte. A zero updatedAt means now.
func (s *userInfoStore) UpsertUserInfo(ctx context.Context, userEntityRef string, userInfo json.RawMessage, updatedAt time.Time) error {
	if userEntityRef == "" {
		return errors.New("authdb: UpsertUserInfo: empty user entity ref")
	}
	if !json.Valid(userInfo) {
		return fmt.Errorf("authdb: UpsertUserInfo %s: user info is not valid JSON", userEntityRef)
	}
	if updatedAt.IsZero() {
		updatedAt = s.db.now()
	}
	// Node writes luxon's toSQL({includeOffset:false}): UTC with milliseconds.
	updatedAt = updatedAt.UTC().Truncate(time.Millisecond)
	var at any = updatedAt
	if !s.db.isPG() {
		at = updatedAt.Format(sqliteMillisLayout)
	}
	if _, err := s.db.sql.ExecContext(ctx, upsertUserInfo, userEntityRef, string(userInfo), at); err != nil {
		return fmt.Errorf("authdb: storing user info for %s: %w", userEntityRef, err)
	}
	return nil
}

// GetUserInfo returns the stored JSON, or an error wrapping tokens.ErrNotFound.
func (s *userInfoStore) GetUserInfo(ctx context.Context, userEntityRef string) (json.RawMessage, error) {
	var info string
	err := s.db.sql.QueryRowContext(ctx, `SELECT user_info FROM user_info WHERE user_entity_ref = $1`, userEntityRef).Scan(&info)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("authdb: user info for %s: %w", userEntityRef, tokens.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("authdb: reading user info for %s: %w", userEntityRef, err)
	}
	return json.RawMessage(info), nil
}
