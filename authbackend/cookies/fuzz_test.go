package cookies

import (
	"net/http"
	"testing"
)

// FuzzSealerOpen: Open never panics and never returns a plaintext for a string that
// Seal did not produce (the only accepted inputs are the seeded genuine values).
func FuzzSealerOpen(f *testing.F) {
	// Deterministic nonces so the genuine values (also in the committed corpus) are
	// the same on every run; distinct per seal, so no nonce is reused.
	s := NewSealer(testSecret, &counterReader{})
	genuine := map[string]string{}
	for _, pt := range []string{"", "refresh-token", "x"} {
		v := s.Seal([]byte(pt), testAAD)
		genuine[v] = pt
		f.Add(v)
	}
	f.Add("")
	f.Add("1")
	f.Add("1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, in string) {
		pt, err := s.Open(in, testAAD)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with error")
			}
			return
		}
		want, ok := genuine[in]
		if !ok {
			t.Fatalf("Open accepted a value Seal never produced: %q -> %q", in, pt)
		}
		if string(pt) != want {
			t.Fatalf("Open(%q) = %q, want %q", in, pt, want)
		}
	})
}

// FuzzParseCookieHeader: parsing arbitrary Cookie headers never panics and chunked
// reads terminate.
func FuzzParseCookieHeader(f *testing.F) {
	for _, s := range []string{"a=1; b=2", "a", "=;=;", "p-refresh-token-0=x; p-refresh-token-1=y", "a=\"", ";;;a=%zz"} {
		f.Add(s)
	}
	j, err := NewJar("p", pCallback)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		_ = ParseCookieHeader(header)
		r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		r.Header.Set("Cookie", header)
		_, _ = j.Refresh(r)
	})
}

// counterReader yields 0, 1, 2, ... (mod 256): distinct 24-byte nonces for the first
// seals, reproducible across runs.
type counterReader struct{ n byte }

func (c *counterReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}
