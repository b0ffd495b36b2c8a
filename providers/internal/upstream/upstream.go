package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// ErrorCode returns code when it is a plausible RFC 6749 error code (letters, digits,
// "_", "-", "." and at most 64 of them), else "".
func ErrorCode(code string) string {
	if code == "" || len(code) > 64 {
		return ""
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return ""
		}
	}
	return code
}

// Printable keeps printable ASCII (collapsing whitespace) minus markup and quote
// characters, and truncates to max bytes: an IdP's text must never reach the app as
// markup, whatever the page that later shows the message does with it.
func Printable(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			space = b.Len() > 0
			continue
		}
		if r < 0x21 || r > 0x7e || strings.ContainsRune("<>&\"'`", r) {
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() >= max {
			return b.String()[:max] + "..."
		}
	}
	return b.String()
}

// IsTimeout reports whether err is a deadline or a network timeout.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ErrTooLarge is returned by ReadLimited for a body longer than its limit.
var ErrTooLarge = errors.New("the answer is too large")

// ReadLimited reads all of r, failing with ErrTooLarge rather than truncating when r
// holds more than max bytes (a truncated JSON document would fail later with a
// misleading parse error).
func ReadLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, max)
	}
	return b, nil
}

// NormalizeNumbers turns the json.Number values of a document decoded with UseNumber
// into int64 when integral, else float64, so that claims such as exp stay exact.
func NormalizeNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = NormalizeNumbers(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = NormalizeNumbers(x)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// EmailVerified reads an email_verified claim: true (boolean, or the string "true")
// vouches for the email, an absent claim counts as absentOK, any other value does not.
func EmailVerified(v any, absentOK bool) bool {
	switch t := v.(type) {
	case nil:
		return absentOK
	case bool:
		return t
	case string:
		return strings.EqualFold(strings.TrimSpace(t), "true")
	}
	return false
}
