package cookies

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef")
	otherSecret = []byte("0123456789abcdef0123456789abcdeX")
)

const testAAD = "spectrocloud|development|refresh"

func TestSealerRoundTrip(t *testing.T) {
	s := NewSealer(testSecret, nil)
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte("refresh-token-" + strings.Repeat("z", 5000)), {0, 255, 10}} {
		sealed := s.Seal(pt, testAAD)
		if sealed[0] != '1' || strings.ContainsAny(sealed, "+/=;, \"") {
			t.Fatalf("sealed value not cookie-safe: %.40q", sealed)
		}
		got, err := s.Open(sealed, testAAD)
		if err != nil || !bytes.Equal(got, pt) || got == nil {
			t.Fatalf("Open(Seal(%q)) = %q, %v", pt, got, err)
		}
		// A fresh Sealer from the same secret opens it (e.g. after a restart).
		if _, err := NewSealer(testSecret, nil).Open(sealed, testAAD); err != nil {
			t.Fatalf("other instance: %v", err)
		}
	}
}

func TestSealerRejects(t *testing.T) {
	s := NewSealer(testSecret, nil)
	// Seal until the value uses a URL-only character: a value without '-' or '_' is
	// spelled the same in both alphabets, and the "std alphabet" case would not differ.
	sealed := s.Seal([]byte("secret refresh token"), testAAD)
	for !strings.ContainsAny(sealed[1:], "-_") {
		sealed = s.Seal([]byte("secret refresh token"), testAAD)
	}
	flip := func(i int) string {
		b := []byte(sealed)
		// Swap for a different alphabet character so only the content changes.
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(sealed[1:])
	cases := map[string]struct {
		sealer *Sealer
		in     string
		aad    string
	}{
		"other secret":       {NewSealer(otherSecret, nil), sealed, testAAD},
		"other aad":          {s, sealed, "spectrocloud|production|refresh"},
		"empty aad":          {s, sealed, ""},
		"flipped first byte": {s, flip(1), testAAD},
		"flipped middle":     {s, flip(len(sealed) / 2), testAAD},
		"flipped last":       {s, flip(len(sealed) - 1), testAAD},
		"version":            {s, "2" + sealed[1:], testAAD},
		"no version":         {s, sealed[1:], testAAD},
		"truncated":          {s, sealed[:len(sealed)-4], testAAD},
		"header only":        {s, sealed[:10], testAAD},
		"empty":              {s, "", testAAD},
		"just version":       {s, "1", testAAD},
		"garbage":            {s, "1!!!!", testAAD},
		"padded":             {s, sealed + "==", testAAD},
		"newline inside":     {s, sealed[:20] + "\n" + sealed[20:], testAAD},
		"std alphabet":       {s, "1" + base64.RawStdEncoding.EncodeToString(raw), testAAD},
		"extra byte":         {s, "1" + base64.RawURLEncoding.EncodeToString(append(raw, 0)), testAAD},
	}
	for name, tc := range cases {
		if tc.in == sealed && tc.sealer == s && tc.aad == testAAD {
			t.Fatalf("%s: case does not change anything", name)
		}
		got, err := tc.sealer.Open(tc.in, tc.aad)
		if !errors.Is(err, ErrInvalidSealed) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrInvalidSealed", name, got, err)
		}
	}
}

func TestSealerNonceUniqueness(t *testing.T) {
	s := NewSealer(testSecret, nil)
	seen := map[string]bool{}
	for range 1000 {
		v := s.Seal([]byte("same"), testAAD)
		nonce := v[:33] // version + 24 nonce bytes (32 base64 chars)
		if seen[nonce] {
			t.Fatal("nonce repeated")
		}
		seen[nonce] = true
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestSealerInjectedRandom(t *testing.T) {
	zero := NewSealer(testSecret, bytes.NewReader(make([]byte, 24)))
	v := zero.Seal([]byte("x"), testAAD)
	if !strings.HasPrefix(v, "1"+strings.Repeat("A", 32)) {
		t.Fatalf("injected nonce not used: %.40s", v)
	}
	// A failing injected reader still yields a fresh random nonce, never a fixed one.
	f := NewSealer(testSecret, failingReader{})
	a, b := f.Seal([]byte("x"), testAAD), f.Seal([]byte("x"), testAAD)
	if a == b {
		t.Fatal("failing reader produced identical seals")
	}
	if got, err := f.Open(a, testAAD); err != nil || string(got) != "x" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestDerive(t *testing.T) {
	s := NewSealer(testSecret, nil)
	a := s.Derive("oidc-nonce", "state-nonce-1")
	if len(a) != 32 {
		t.Fatalf("len = %d", len(a))
	}
	if !bytes.Equal(a, NewSealer(testSecret, nil).Derive("oidc-nonce", "state-nonce-1")) {
		t.Fatal("not deterministic")
	}
	distinct := [][]byte{
		a,
		s.Derive("pkce-verifier", "state-nonce-1"),
		s.Derive("oidc-nonce", "state-nonce-2"),
		s.Derive("oidc-nonc", "estate-nonce-1"), // label/data boundary is not ambiguous
		NewSealer(otherSecret, nil).Derive("oidc-nonce", "state-nonce-1"),
	}
	for i := range distinct {
		for k := i + 1; k < len(distinct); k++ {
			if bytes.Equal(distinct[i], distinct[k]) {
				t.Errorf("derivations %d and %d collide", i, k)
			}
		}
	}
}

func TestCheckSecret(t *testing.T) {
	if CheckSecret([]byte("short")) == nil {
		t.Error("short secret accepted")
	}
	if err := CheckSecret(testSecret); err != nil {
		t.Error(err)
	}
}

func BenchmarkSealOpen(b *testing.B) {
	s := NewSealer(testSecret, nil)
	pt := []byte(strings.Repeat("r", 1000))
	for b.Loop() {
		if _, err := s.Open(s.Seal(pt, testAAD), testAAD); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen is what every /refresh pays for its cookie (a 1 KB session).
func BenchmarkOpen(b *testing.B) {
	s := NewSealer(testSecret, nil)
	sealed := s.Seal([]byte(strings.Repeat("r", 1000)), testAAD)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(sealed, testAAD); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOpenAllocations: opening decrypts in the decoded buffer, so a refresh's cookie
// costs one buffer (plus the AAD), not two.
func TestOpenAllocations(t *testing.T) {
	s := NewSealer(testSecret, nil)
	sealed := s.Seal([]byte(strings.Repeat("r", 1000)), testAAD)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := s.Open(sealed, testAAD); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Fatalf("Open allocates %.0f times, want at most 2", n)
	}
}
