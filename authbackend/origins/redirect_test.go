package origins

import (
	"net/url"
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

func redirectMatcher(t testing.TB) *Matcher {
	t.Helper()
	m, err := NewMatcher("https://app.example.com", []string{"https://*.preview.example.net", "http://127.0.0.1:17007"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCheckRedirectURLAccepted(t *testing.T) {
	m := redirectMatcher(t)
	cases := []struct{ in, want string }{
		{"https://app.example.com/catalog?from=login", "https://app.example.com/catalog?from=login"},
		{"https://app.example.com", "https://app.example.com"},
		{"https://app.example.com/", "https://app.example.com/"},
		{"HTTPS://APP.example.com/Catalog", "https://app.example.com/Catalog"},
		{"https://app.example.com:443/x", "https://app.example.com/x"},
		{"https://app.example.com/a%20b?q=%2F#frag", "https://app.example.com/a%20b?q=%2F#frag"},
		{"https://app.example.com//evil.com", "https://app.example.com//evil.com"}, // a path on the app
		{"https://app.example.com/?next=https://evil.com", "https://app.example.com/?next=https://evil.com"},
		{"https://pr-1.preview.example.net/x", "https://pr-1.preview.example.net/x"},
		{"http://127.0.0.1:17007/catalog?from=login", "http://127.0.0.1:17007/catalog?from=login"},
	}
	for _, tc := range cases {
		got, err := m.CheckRedirectURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CheckRedirectURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			continue
		}
		assertSafeRedirect(t, m, tc.in, got)
	}
}

// TestCheckRedirectURLOpenRedirects is the open-redirect table: every entry must be
// refused, with the Backstage error class a browser-level parse would give.
func TestCheckRedirectURLOpenRedirects(t *testing.T) {
	m := redirectMatcher(t)
	const (
		input      = backstageerr.NameInput
		notAllowed = backstageerr.NameNotAllowed
	)
	cases := []struct {
		in   string
		name string
		msg  string
	}{
		{"", input, "No redirectUrl provided in request query parameters"},
		{"not a url", notAllowed, ""},
		{"/catalog", input, "Redirect URL is invalid, failed to parse"},
		{"//evil.com", input, ""},
		{"///evil.com", input, ""},
		{"/\\evil.com", notAllowed, ""},
		{"\\\\evil.com", notAllowed, ""},
		{"https://app.example.com@evil.com", notAllowed, "Redirect URL is not an allowed origin"},
		{"https://app.example.com:443@evil.com/", notAllowed, ""},
		{"https://user:pass@app.example.com/", notAllowed, ""}, // userinfo never allowed
		{"https://evil.com\\@app.example.com", notAllowed, ""},
		{"https://app.example.com\\@evil.com", notAllowed, ""},
		{"https://app.example.com\\evil.com", notAllowed, ""},
		{"https://evil.com#@app.example.com", notAllowed, ""},
		{"https://evil.com?@app.example.com", notAllowed, ""},
		{"https://app.example.com.evil.com/", notAllowed, ""},
		{"https://app.example.com%2eevil.com/", input, ""},
		{"https://app.example.com%40evil.com/", input, ""},
		{"https://evil.com/app.example.com", notAllowed, ""},
		{"https://evilapp.example.com/", notAllowed, ""},
		{"http://app.example.com/", notAllowed, ""}, // scheme downgrade
		{"https://app.example.com:8443/", notAllowed, ""},
		{"https://app.example.com:443a/", input, ""},
		{"https:app.example.com/", notAllowed, ""},
		{"https:/app.example.com/", notAllowed, ""},
		{"https:///app.example.com/", notAllowed, ""},
		{"javascript:alert(1)", notAllowed, ""},
		{"JavaScript://app.example.com/%0aalert(1)", notAllowed, ""},
		{"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", notAllowed, ""},
		{"file:///etc/passwd", notAllowed, ""},
		{"vbscript:msgbox(1)", notAllowed, ""},
		{"https://app.example.com\t.evil.com/", notAllowed, ""},
		{"https://app.exa\nmple.com/", notAllowed, ""},
		{"https://app.example.com/\r\nSet-Cookie: x=y", notAllowed, ""},
		{"\thttps://app.example.com/", notAllowed, ""},
		{" https://app.example.com/", notAllowed, ""},
		{"https://app.example.com/ ", notAllowed, ""},
		{"java\tscript:alert(1)", notAllowed, ""},
		{"https://аpp.example.com/", notAllowed, ""},        // Cyrillic a (IDN homograph)
		{"https://xn--pp-8cd.example.com/", notAllowed, ""}, // its punycode: a different host
		{"https://0x7f.0.0.1:17007/", notAllowed, ""},
		{"http://127.1:17007/", notAllowed, ""},
		{"http://2130706433:17007/", notAllowed, ""},
		{"http://127.0.0.1:017007/", notAllowed, ""}, // special-cased below
		{"https://[::ffff:7f00:1]/", notAllowed, ""},
		{"https://preview.example.net/", notAllowed, ""},
		{"https://a/b.preview.example.net/", notAllowed, ""},
		{"https://.preview.example.net/", notAllowed, ""},
		{"https://app.example.com%00.evil.com/", input, ""},
		{"https://app.example.com/%zz", input, "Redirect URL is invalid, failed to parse"},
		{"https://" + strings.Repeat("a", 9000) + ".example.com/", notAllowed, ""},
	}
	for _, tc := range cases {
		got, err := m.CheckRedirectURL(tc.in)
		if tc.in == "http://127.0.0.1:017007/" {
			// Browsers read port 017007 as 17007: the same allowed origin, so it is
			// accepted and normalised rather than refused.
			if err != nil || got != "http://127.0.0.1:17007/" {
				t.Errorf("CheckRedirectURL(%q) = %q, %v", tc.in, got, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckRedirectURL(%q) = %q, want %s", tc.in, got, tc.name)
			continue
		}
		be, ok := backstageerr.As(err)
		if !ok || be.Name != tc.name {
			t.Errorf("CheckRedirectURL(%q) error = %v (%s), want %s", tc.in, err, backstageerr.NameOf(err), tc.name)
			continue
		}
		if tc.msg != "" && be.Message != tc.msg {
			t.Errorf("CheckRedirectURL(%q) message = %q, want %q", tc.in, be.Message, tc.msg)
		}
	}
}

// TestCheckRedirectURLMatchesCaptures: captures 27/29 (redirectUrl followed verbatim)
// and 32 (a disallowed port is 403 NotAllowedError).
func TestCheckRedirectURLMatchesCaptures(t *testing.T) {
	m, err := NewMatcher("http://127.0.0.1:17007", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.CheckRedirectURL("http://127.0.0.1:17007/catalog?from=login")
	if err != nil || got != "http://127.0.0.1:17007/catalog?from=login" {
		t.Fatalf("got %q, %v", got, err)
	}
	_, err = m.CheckRedirectURL("http://127.0.0.1:17099/")
	if backstageerr.NameOf(err) != backstageerr.NameNotAllowed || backstageerr.MessageOf(err) != "Redirect URL is not an allowed origin" {
		t.Fatalf("err = %v", err)
	}
}

// assertSafeRedirect is the property every accepted redirect must have.
func assertSafeRedirect(t *testing.T, m *Matcher, in, out string) {
	t.Helper()
	if strings.ContainsAny(out, "\\\r\n\t ") {
		t.Fatalf("accepted %q -> %q contains backslash or whitespace", in, out)
	}
	u, err := url.Parse(out)
	if err != nil {
		t.Fatalf("accepted %q -> %q does not parse: %v", in, out, err)
	}
	if u.User != nil {
		t.Fatalf("accepted %q -> %q has userinfo", in, out)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		t.Fatalf("accepted %q -> %q scheme %q", in, out, u.Scheme)
	}
	origin := u.Scheme + "://" + u.Host
	if !m.Allowed(origin) {
		t.Fatalf("accepted %q -> %q whose origin %q is not allowed", in, out, origin)
	}
}

func BenchmarkCheckRedirectURL(b *testing.B) {
	m := redirectMatcher(b)
	for b.Loop() {
		if _, err := m.CheckRedirectURL("https://pr-7.preview.example.net/catalog?from=login#x"); err != nil {
			b.Fatal(err)
		}
	}
}
