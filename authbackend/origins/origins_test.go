package origins

import (
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

func TestParseOrigin(t *testing.T) {
	ok := []struct{ in, want string }{
		{"http://127.0.0.1:17007", "http://127.0.0.1:17007"},
		{"http://127.0.0.1:3000/", "http://127.0.0.1:3000"},
		{"https://App.Example.COM/some/path?q=1#f", "https://app.example.com"},
		{"HTTPS://app.example.com", "https://app.example.com"},
		{"http://app.example.com:80", "http://app.example.com"},
		{"https://app.example.com:443/", "https://app.example.com"},
		{"http://app.example.com:443", "http://app.example.com:443"},
		{"https://app.example.com:80", "https://app.example.com:80"},
		{"http://app.example.com:0080", "http://app.example.com"},
		{"http://app.example.com:", "http://app.example.com"},
		{"http://[::1]:3000", "http://[::1]:3000"},
		{"http://[0:0:0:0:0:0:0:1]", "http://[::1]"},
		{"http://localhost:3000", "http://localhost:3000"},
		{"http://xn--80ak6aa92e.com", "http://xn--80ak6aa92e.com"},
	}
	for _, tc := range ok {
		got, err := ParseOrigin(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []string{
		"", "not a url", "127.0.0.1:3000", "//app.example.com", "/relative",
		"http://", "http:///app", "http:app.example.com", "http://app.example.com:99999",
		"http://app.example.com:-1", "http://app.example.com:8a",
		"http://user@app.example.com", "http://app.example.com\\@evil.com",
		"http://app.exa\tmple.com", " http://app.example.com", "http://app.example.com\n",
		"http://%65vil.com", "http://0x7f.0.0.1", "http://127.1", "http://2130706433",
		"http://0177.0.0.1", "http://[::ffff:127.0.0.1]", "http://[fe80::1%25eth0]",
		"http://app..example.com", "http://app.example.com.", "http://аpp.example.com",
		"javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "ftp://x.example.com",
		"http://[::1", "http://[::1]x",
	}
	for _, in := range bad {
		got, err := ParseOrigin(in)
		if err == nil {
			t.Errorf("ParseOrigin(%q) = %q, want error", in, got)
			continue
		}
		be, ok := backstageerr.As(err)
		if !ok || be.Name != backstageerr.NameInput || be.Message != "App origin is invalid, failed to parse" {
			t.Errorf("ParseOrigin(%q) error = %v, want InputError", in, err)
		}
	}
}

func TestMatcherAllowed(t *testing.T) {
	m, err := NewMatcher("http://127.0.0.1:3000/app", []string{
		"https://*.example.com",
		"https://test-?.example.net",
		"http://localhost:{3000,3001}",
		"https://[ab]c.example.org",
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.AppOrigin() != "http://127.0.0.1:3000" {
		t.Fatalf("AppOrigin = %q", m.AppOrigin())
	}
	cases := []struct {
		origin string
		want   bool
	}{
		{"http://127.0.0.1:3000", true},
		{"http://127.0.0.1:3001", false},
		{"https://127.0.0.1:3000", false},
		{"http://127.0.0.1:3000/", false}, // exact string match, as in Backstage
		{"https://a.example.com", true},
		{"https://A.EXAMPLE.COM", true},   // nocase
		{"https://a.b.example.com", true}, // minimatch '*' crosses '.' (not '/')
		{"https://example.com", false},    // '*.' needs something before the dot
		{"https://.example.com", false},   // no leading-dot match
		{"http://a.example.com", false},   // scheme is part of the pattern
		{"https://a.example.com:8443", false},
		{"https://evil.com/.example.com", false},
		{"https://evil.com?.example.com", false},
		{"https://a.example.com.evil.com", false},
		{"https://evilexample.com", false},
		{"https://test-1.example.net", true},
		{"https://test-12.example.net", false},
		{"http://localhost:3001", true},
		{"http://localhost:3002", false},
		{"https://ac.example.org", true},
		{"https://cc.example.org", false},
		{"null", false},
		{"", false},
	}
	for _, tc := range cases {
		if got := m.Allowed(tc.origin); got != tc.want {
			t.Errorf("Allowed(%q) = %v, want %v", tc.origin, got, tc.want)
		}
	}
}

func TestNewMatcherErrors(t *testing.T) {
	if _, err := NewMatcher("not a url", nil); err == nil {
		t.Error("bad app.baseUrl accepted")
	}
	for _, p := range []string{"!https://evil.com", "#x", "https://[a-", "https://+(a|b).com", "", "https://a]b"} {
		_, err := NewMatcher("http://localhost:3000", []string{"https://ok.example.com", p})
		if err == nil {
			t.Errorf("pattern %q accepted", p)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name pattern %q", err, p)
		}
	}
}

func TestGlobList(t *testing.T) {
	cases := []struct {
		patterns []string
		in       string
		want     bool
	}{
		{[]string{"*"}, "https://anything.example:1", true},
		{[]string{"*"}, "", true},
		{nil, "http://a", false},
		{[]string{"http://a"}, "HTTP://A", true},
		{[]string{"http://*"}, "http://a/", true}, // trailing slash on input, as minimatch
		{[]string{"http://*"}, "http://a/b", false},
		{[]string{"http://**"}, "http://a/b", false}, // noglobstar
		{[]string{"http://a\\*"}, "http://a*", true},
		{[]string{"http://a\\*"}, "http://ab", false},
		{[]string{"http://[!a]"}, "http://b", true},
		{[]string{"http://[!a]"}, "http://a", false},
		{[]string{"http://[^a]"}, "http://a", false},
		{[]string{"http://{a,{b,c}}.x"}, "http://c.x", true},
		{[]string{"http://{a}.x"}, "http://{a}.x", true}, // no comma: literal
		{[]string{"http://*a*b*c*"}, "http://xaxbxcx", true},
		{[]string{"http://*a*b*c*"}, "http://xaxcxbx", false},
		{[]string{"https://*"}, "https://", false}, // lone star needs a non-empty segment
	}
	for _, tc := range cases {
		g, err := CompileGlobs(tc.patterns)
		if err != nil {
			t.Fatalf("CompileGlobs(%q): %v", tc.patterns, err)
		}
		if got := g.Match(tc.in); got != tc.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tc.patterns, tc.in, got, tc.want)
		}
	}
	var nilList *GlobList
	if nilList.Match("x") {
		t.Error("nil GlobList matched")
	}
}

func TestGlobNoCatastrophicBacktracking(t *testing.T) {
	g, err := CompileGlobs([]string{"http://" + strings.Repeat("*a", 30) + "b"})
	if err != nil {
		t.Fatal(err)
	}
	if g.Match("http://" + strings.Repeat("a", 5000)) {
		t.Fatal("unexpected match")
	}
}

func TestBraceExpansionBounded(t *testing.T) {
	if _, err := CompileGlobs([]string{strings.Repeat("{a,b}", 12)}); err == nil {
		t.Fatal("4096-way brace expansion accepted")
	}
}

func BenchmarkAllowedGlob(b *testing.B) {
	m, err := NewMatcher("http://localhost:3000", []string{"https://*.example.com", "https://test-*.example.net"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !m.Allowed("https://test-42.example.net") {
			b.Fatal("no match")
		}
	}
}
