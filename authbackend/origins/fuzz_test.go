package origins

import (
	"strings"
	"testing"
)

// FuzzOriginMatcher: ParseOrigin and Allowed never panic, a parsed origin is stable
// (parsing it again gives itself) and never carries a path, userinfo or whitespace.
func FuzzOriginMatcher(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:17007", "https://a.b.example.com", "https://evil.com/.example.com",
		"http://[::1]:3000", "http://0x7f.1", "HTTP://APP:80/", "https://a.example.com?.x",
	} {
		f.Add(s)
	}
	m, err := NewMatcher("http://127.0.0.1:17007", []string{"https://*.example.com", "http://localhost:{3000,3001}"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		allowedRaw := m.Allowed(raw)
		o, err := ParseOrigin(raw)
		if err != nil {
			return
		}
		if strings.ContainsAny(o, "@\\ \t\r\n?#") || strings.Count(o, "/") != 2 {
			t.Fatalf("ParseOrigin(%q) = %q", raw, o)
		}
		again, err := ParseOrigin(o)
		if err != nil || again != o {
			t.Fatalf("ParseOrigin not idempotent: %q -> %q -> %q, %v", raw, o, again, err)
		}
		if allowedRaw && strings.ToLower(raw) == o && !m.Allowed(o) {
			t.Fatalf("Allowed(%q) but not Allowed(%q)", raw, o)
		}
	})
}

// FuzzCheckRedirectURL: never panics; anything accepted re-parses (net/url) to an
// allowed http(s) origin with no userinfo, backslash or whitespace, and is a fixed point.
func FuzzCheckRedirectURL(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/catalog?from=login", "//evil.com", "/\\evil.com",
		"https://app.example.com@evil.com", "https://evil.com\\@app.example.com",
		"javascript:alert(1)", "https://pr-1.preview.example.net/x#y", "https://app.example.com:443//x",
		"https://app.example.com\t.evil.com", "data:text/html,x",
	} {
		f.Add(s)
	}
	m := redirectMatcher(f)
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := m.CheckRedirectURL(raw)
		if err != nil {
			return
		}
		assertSafeRedirect(t, m, raw, out)
		again, err := m.CheckRedirectURL(out)
		if err != nil || again != out {
			t.Fatalf("normalised %q -> %q is not stable: %q, %v", raw, out, again, err)
		}
	})
}
