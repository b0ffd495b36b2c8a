package oauthstate

import (
	"bytes"
	"errors"
	"testing"
)

func TestNewNonce(t *testing.T) {
	n, err := NewNonce(bytes.NewReader([]byte{0xab, 0x64, 0x05, 0x74, 0x75, 0xa5, 0x6d, 0x16, 0x40, 0xc0, 0x68, 0x2d, 0xcb, 0x40, 0x40, 0xdc}))
	if err != nil || n != "q2QFdHWlbRZAwGgty0BA3A==" {
		t.Fatalf("NewNonce = %q, %v", n, err)
	}
	a, _ := NewNonce(nil)
	b, _ := NewNonce(nil)
	if len(a) != 24 || a == b {
		t.Fatalf("random nonces %q %q", a, b)
	}
	if _, err := NewNonce(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("short randomness accepted")
	}
	if _, err := NewNonce(errReader{}); err == nil {
		t.Fatal("failing reader accepted")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestNonceMatches(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"q2QFdHWlbRZAwGgTLdBA3A==", "q2QFdHWlbRZAwGgTLdBA3A==", true},
		{"q2QFdHWlbRZAwGgTLdBA3A==", "q2QFdHWlbRZAwGgTLdBA3A=", false},
		{"tampered", "q2QFdHWlbRZAwGgTLdBA3A==", false},
		{"", "", false},
		{"a", "", false},
	}
	for _, tc := range cases {
		if got := NonceMatches(tc.a, tc.b); got != tc.want {
			t.Errorf("NonceMatches(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
