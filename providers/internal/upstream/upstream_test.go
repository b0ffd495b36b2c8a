package upstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorCode(t *testing.T) {
	for in, want := range map[string]string{
		"invalid_grant": "invalid_grant", "bad_verification_code": "bad_verification_code",
		"": "", "<script>": "", "a b": "", strings.Repeat("x", 65): "", "x.y-z_1": "x.y-z_1",
	} {
		if got := ErrorCode(in); got != want {
			t.Errorf("ErrorCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"The code passed is incorrect or expired.", 200, "The code passed is incorrect or expired."},
		{"  a\n\tb  ", 200, "a b"},
		{`<img src=x onerror="alert(1)">`, 200, "img src=x onerror=alert(1)"},
		{"caf\u00e9 \x00ok", 200, "caf ok"},
		{strings.Repeat("a", 10), 4, "aaaa..."},
	} {
		if got := Printable(tc.in, tc.max); got != tc.want {
			t.Errorf("Printable(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestIsTimeout(t *testing.T) {
	if !IsTimeout(fmt.Errorf("x: %w", context.DeadlineExceeded)) || !IsTimeout(timeoutErr{}) {
		t.Error("a timeout was not recognised")
	}
	if IsTimeout(errors.New("connection refused")) || IsTimeout(context.Canceled) {
		t.Error("a non-timeout was taken for one")
	}
}

func TestReadLimited(t *testing.T) {
	if b, err := ReadLimited(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Fatalf("at the limit: %q %v", b, err)
	}
	if _, err := ReadLimited(strings.NewReader("123456"), 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
}
