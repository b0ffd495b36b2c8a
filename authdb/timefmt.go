package authdb

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Time formats Node writes on SQLite, where datetime columns hold text:
//   - CURRENT_TIMESTAMP (signing_keys.created_at, user_info.created_at): "2006-01-02 15:04:05"
//   - luxon DateTime.utc().toSQL({includeOffset:false}) (user_info.updated_at):
//     "2006-01-02 15:04:05.000"
//   - Date.prototype.toISOString (plugin keys' expires_at, on every database):
//     "2006-01-02T15:04:05.000Z"
//   - better-sqlite3 binds a JS Date as its epoch milliseconds (knex_migrations.migration_time).
const (
	sqliteSecondsLayout = "2006-01-02 15:04:05"
	sqliteMillisLayout  = "2006-01-02 15:04:05.000"
	isoMillisLayout     = "2006-01-02T15:04:05.000Z"
)

// formatISO renders t like JavaScript's Date.prototype.toISOString.
func formatISO(t time.Time) string { return t.UTC().Format(isoMillisLayout) }

// textLayouts are tried in order when a stored time is text. Layouts without a zone
// are UTC, as Backstage reads them (luxon fromSQL(..., {zone: "UTC"})).
var textLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999 -0700 MST", // Go's time.Time.String, should anyone write it
}

// parseStoredTime converts what a driver returns for a time column into UTC. It accepts
// pgx's time.Time, the text layouts above (modernc returns text as string, or parses it
// into time.Time itself for datetime columns) and epoch milliseconds.
func parseStoredTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case []byte:
		return parseTimeText(string(x))
	case string:
		return parseTimeText(x)
	case int64:
		return time.UnixMilli(x).UTC(), nil
	case float64:
		return time.UnixMilli(int64(x)).UTC(), nil
	case nil:
		return time.Time{}, fmt.Errorf("time is NULL")
	default:
		return time.Time{}, fmt.Errorf("unsupported time value of type %T", v)
	}
}

func parseTimeText(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range textLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("cannot parse time %q", s)
}
