package upstream

import (
	"context"
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
