package origins

import (
	"fmt"
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
	for _, tc := range []struct{ pattern, want string }{
		{"[[:alpha:]]", "POSIX character classes"},
		{"https://*", "would allow every origin"},
		{"http://*", "would allow every origin"},
		{"*://*", "would allow every origin"},
		{"http*://*:*", "would allow every origin"},
		{"https://*.*", "would allow every origin"},
		{"https://?*", "would allow every origin"},
		{"http?(s)://*", "would allow every origin"},
		{"{http,https}://*", "would allow every origin"},
		{"!https://evil.example", "would allow every origin"},
		{"https://*.invalid", "would allow every origin"},
		{"https://*:8443", "would allow every origin"},
	} {
		_, err := NewMatcher("http://localhost:3000", []string{"https://ok.example.com", tc.pattern})
		if err == nil {
			t.Errorf("pattern %q accepted", tc.pattern)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "auth.experimentalExtraAllowedOrigins[1]: ") || !strings.Contains(msg, tc.want) || !strings.Contains(msg, tc.pattern) {
			t.Errorf("pattern %q: error %q does not name the key, index, pattern and %q", tc.pattern, msg, tc.want)
		}
	}
	// Patterns Backstage accepts that cannot allow every origin compile (they used to
	// be refused by our own glob engine), and behave as minimatch makes them.
	for _, p := range []string{"*", "#x", "", "https://[a-", "https://+(a|b).example.com", "https://a]b", "https://*.com"} {
		if _, err := NewMatcher("http://localhost:3000", []string{p}); err != nil {
			t.Errorf("pattern %q refused: %v", p, err)
		}
	}
}

// TestMatcherStarAllowsNoOrigin is the regression test for '*' in
// auth.experimentalExtraAllowedOrigins, which our old glob engine treated as "allow
// every origin": with Backstage's minimatch (nocase, noglobstar) '*' never crosses
// '/', so it matches no origin at all.
func TestMatcherStarAllowsNoOrigin(t *testing.T) {
	m, err := NewMatcher("https://app.example.com", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"https://evil.example", "http://evil.example:8080", "https://app.example.com.evil.example", "null"} {
		if m.Allowed(o) {
			t.Errorf("'*' allowed %q", o)
		}
	}
	if _, err := m.CheckRedirectURL("https://evil.example/x"); err == nil {
		t.Error("'*' allowed a redirect to https://evil.example")
	}
	if !m.Allowed("https://app.example.com") {
		t.Error("app origin refused")
	}
}

func TestPatterns(t *testing.T) {
	cases := []struct {
		patterns []string
		in       string
		want     bool
	}{
		{[]string{"*"}, "https://anything.example:1", false},
		{[]string{"*"}, "", false},
		{nil, "http://a", false},
		{[]string{"http://a"}, "HTTP://A", true},
		{[]string{"http://a.example"}, "http://a.example/", true}, // trailing slash on input, as minimatch
		{[]string{"http://a.example"}, "http://a.example/b", false},
		{[]string{"http://*.example"}, "http://a/b.example", false}, // '*' does not cross '/'
		{[]string{"http://a\\*"}, "http://a*", true},
		{[]string{"http://a\\*"}, "http://ab", false},
		{[]string{"http://[!a].example"}, "http://b.example", true},
		{[]string{"http://[!a].example"}, "http://a.example", false},
		{[]string{"http://[^a].example"}, "http://a.example", false},
		{[]string{"http://{a,{b,c}}.x"}, "http://c.x", true},
		{[]string{"http://{a}.x"}, "http://{a}.x", true}, // no comma: literal
		{[]string{"http://localhost:{3000..3100}"}, "http://localhost:3042", true},
		{[]string{"http://localhost:{3000..3100}"}, "http://localhost:3101", false},
		{[]string{"https://+(a|b).example"}, "https://abba.example", true},
		{[]string{"https://*a*b*c*.example"}, "https://xaxbxcx.example", true},
		{[]string{"https://*a*b*c*.example"}, "https://xaxcxbx.example", false},
		{[]string{"http://[::1]:3000"}, "http://[::1]:3000", false}, // [::1] is a class in minimatch
		{[]string{"http://\\[::1\\]:3000"}, "http://[::1]:3000", true},
	}
	for _, tc := range cases {
		var p Patterns
		for i, pat := range tc.patterns {
			if err := p.Add(fmt.Sprintf("test[%d]", i), pat); err != nil {
				t.Fatalf("Add(%q): %v", pat, err)
			}
		}
		if got := p.Match(tc.in); got != tc.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tc.patterns, tc.in, got, tc.want)
		}
	}
	var nilList *Patterns
	if nilList.Match("x") || nilList.Len() != 0 {
		t.Error("nil Patterns matched")
	}
}

func TestPatternsNoCatastrophicBacktracking(t *testing.T) {
	var p Patterns
	if err := p.Add("test", "http://"+strings.Repeat("*a", 30)+"b"); err != nil {
		t.Fatal(err)
	}
	if p.Match("http://" + strings.Repeat("a", 5000)) {
		t.Fatal("unexpected match")
	}
}

func TestPatternsBraceExpansionBounded(t *testing.T) {
	var p Patterns
	if err := p.Add("test", "https://"+strings.Repeat("{a,b}", 13)); err == nil {
		t.Fatal("8192-way brace expansion accepted")
	}
}

func BenchmarkAllowedPattern(b *testing.B) {
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
