package cookies

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	captureCallback = "http://127.0.0.1:17007/api/auth/spectrocloud/handler/frame"
	captureOrigin   = "http://127.0.0.1:17007"
	pCallback       = "http://127.0.0.1:17007/api/auth/p/handler/frame"
)

type capturedLine struct {
	capture string
	date    time.Time
	value   string
}

func loadCaptured(t *testing.T) map[string][]capturedLine {
	t.Helper()
	f, err := os.Open("testdata/captured-set-cookie.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]capturedLine{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "|", 3)
		d, err := time.Parse(http.TimeFormat, parts[1])
		if err != nil {
			t.Fatal(err)
		}
		out[parts[0]] = append(out[parts[0]], capturedLine{parts[0], d, parts[2]})
	}
	if len(out) != 4 {
		t.Fatalf("captures: %d", len(out))
	}
	return out
}

func mustJar(t testing.TB, provider, callback string) *Jar {
	t.Helper()
	j, err := NewJar(provider, callback)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func requestWithCookies(pairs ...string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:17007/api/auth/spectrocloud/refresh", nil)
	if len(pairs) > 0 {
		r.Header.Set("Cookie", strings.Join(pairs, "; "))
	}
	return r
}

func TestSetNonceMatchesCapture03(t *testing.T) {
	c := loadCaptured(t)["03-start-popup"]
	j := mustJar(t, "spectrocloud", captureCallback)
	h := http.Header{}
	j.SetNonce(h, "q2QFdHWlbRZAwGgTLdBA3A==", captureOrigin, c[0].date)
	want := []string{c[0].value, c[1].value}
	if got := h.Values("Set-Cookie"); !reflect.DeepEqual(got, want) {
		t.Fatalf("Set-Cookie:\n got %q\nwant %q", got, want)
	}
	// And the browser sends it back as in capture 05.
	r := requestWithCookies("spectrocloud-nonce=q2QFdHWlbRZAwGgTLdBA3A%3D%3D")
	if n, ok := j.Nonce(r); !ok || n != "q2QFdHWlbRZAwGgTLdBA3A==" {
		t.Fatalf("Nonce = %q, %v", n, ok)
	}
}

// TestSetRefreshMatchesCaptures: byte-identical to captures 05 and 29 except for the
// deliberate 400-day cap (Backstage sends 1000 days, which browsers ignore).
func TestSetRefreshMatchesCaptures(t *testing.T) {
	all := loadCaptured(t)
	for _, name := range []string{"05-handler-frame-popup", "29-handler-frame-redirect"} {
		c := all[name]
		now := c[0].date
		val := strings.TrimPrefix(strings.SplitN(c[1].value, ";", 2)[0], "spectrocloud-refresh-token=")
		oldAttrs := "Max-Age=86400000; Path=/api/auth/spectrocloud; Expires=" + now.Add(1000*24*time.Hour).Format(http.TimeFormat)
		if !strings.Contains(c[1].value, oldAttrs) {
			t.Fatalf("%s: capture is not the 1000-day cookie we expect: %s", name, c[1].value)
		}
		wantSet := strings.Replace(c[1].value, oldAttrs,
			"Max-Age=34560000; Path=/api/auth/spectrocloud; Expires="+now.Add(400*24*time.Hour).Format(http.TimeFormat), 1)

		j := mustJar(t, "spectrocloud", captureCallback)
		h := http.Header{}
		j.SetRefresh(h, requestWithCookies("spectrocloud-nonce=x"), val, 1000*24*time.Hour, captureOrigin, now)
		want := []string{c[0].value, wantSet}
		if got := h.Values("Set-Cookie"); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s Set-Cookie:\n got %q\nwant %q", name, got, want)
		}
	}
}

func TestClearRefreshMatchesCapture24(t *testing.T) {
	c := loadCaptured(t)["24-logout"]
	j := mustJar(t, "spectrocloud", captureCallback)
	h := http.Header{}
	j.ClearRefresh(h, requestWithCookies("spectrocloud-refresh-token=eyJ.x.y"), captureOrigin, c[0].date)
	if got := h.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{c[0].value}) {
		t.Fatalf("got %q want %q", got, c[0].value)
	}
}

type expressVectors struct {
	Now       int64 `json:"now"`
	Serialize []struct {
		Value string `json:"value"`
		Opts  struct {
			MaxAge   int64  `json:"maxAge"`
			Domain   string `json:"domain"`
			Path     string `json:"path"`
			Secure   bool   `json:"secure"`
			SameSite string `json:"sameSite"`
		} `json:"opts"`
		Want string `json:"want"`
	} `json:"serialize"`
	Parse []struct {
		Header string            `json:"header"`
		Want   map[string]string `json:"want"`
	} `json:"parse"`
}

func loadExpress(t *testing.T) expressVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/express-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v expressVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Serialize) == 0 || len(v.Parse) == 0 {
		t.Fatal("empty vectors")
	}
	return v
}

// TestSerializeMatchesExpress compares serialize with express 4.21 res.cookie output
// (values needing escapes, non-ASCII, sub-second Max-Age, Secure/None).
func TestSerializeMatchesExpress(t *testing.T) {
	v := loadExpress(t)
	now := time.UnixMilli(v.Now)
	for _, tc := range v.Serialize {
		ss := strings.ToUpper(tc.Opts.SameSite[:1]) + tc.Opts.SameSite[1:]
		o := cookieOptions{domain: tc.Opts.Domain, path: tc.Opts.Path, secure: tc.Opts.Secure, sameSite: ss}
		got := serialize("p-refresh-token", tc.Value, time.Duration(tc.Opts.MaxAge)*time.Millisecond, o, now)
		if got != tc.Want {
			t.Errorf("serialize(%q, %+v):\n got %s\nwant %s", tc.Value, tc.Opts, got, tc.Want)
		}
	}
}

// TestParseMatchesCookieNPM compares ParseCookieHeader with cookie@0.7.2 parse.
func TestParseMatchesCookieNPM(t *testing.T) {
	for _, tc := range loadExpress(t).Parse {
		got := ParseCookieHeader(tc.Header)
		if !reflect.DeepEqual(got, tc.Want) {
			t.Errorf("ParseCookieHeader(%q) = %q, want %q", tc.Header, got, tc.Want)
		}
	}
}

func TestEncodeDecodeURIComponentRoundTrip(t *testing.T) {
	for _, s := range []string{"", "abc", "a b+c/d?e&f=g;h,i\"j\\k", "ünï€😀", "%41"} {
		got, err := decodeURIComponent(encodeURIComponent(s))
		if err != nil || got != s {
			t.Errorf("round trip %q -> %q, %v", s, got, err)
		}
	}
}

func TestCookiePath(t *testing.T) {
	cases := []struct{ provider, callback, want string }{
		{"spectrocloud", "http://127.0.0.1:17007/api/auth/spectrocloud/handler/frame", "/api/auth/spectrocloud"},
		{"github", "https://backstage.example.com/api/auth/github/handler/frame", "/api/auth/github"},
		// Backstage's quirk: a callback that does not end in <p>/handler/frame.
		{"oidc", "https://backstage.example.com/api/auth/oidc/callback", "/api/auth/oidc/callback/oidc"},
		{"oidc", "https://backstage.example.com", "//oidc"},
		{"oidc", "https://backstage.example.com//api/auth/oidc/handler/frame", "//api/auth/oidc"},
		{"oidc", "https://backstage.example.com/api/auth/oidc/handler/frame?env=development", "/api/auth/oidc"},
	}
	for _, tc := range cases {
		if got := mustJar(t, tc.provider, tc.callback).Path(); got != tc.want {
			t.Errorf("NewJar(%q, %q).Path() = %q, want %q", tc.provider, tc.callback, got, tc.want)
		}
	}
}

func TestNewJarErrors(t *testing.T) {
	for _, tc := range [][2]string{
		{"", captureCallback},
		{"bad id", captureCallback},
		{"p;x", captureCallback},
		{"p", "/api/auth/p/handler/frame"},
		{"p", "ftp://host/api/auth/p/handler/frame"},
		{"p", "http://host/a/../p/handler/frame"},
		{"p", "http://host/a;b/p/handler/frame"},
		{"p", "::not a url"},
	} {
		if _, err := NewJar(tc[0], tc[1]); err == nil {
			t.Errorf("NewJar(%q, %q) succeeded", tc[0], tc[1])
		}
	}
}

func TestSameSite(t *testing.T) {
	now := time.Unix(1795777608, 0)
	cases := []struct {
		name, callback, appOrigin string
		wantSecure                bool
		wantSameSite              string
	}{
		{"https, other host", "https://backstage.example.com/api/auth/p/handler/frame", "https://app.example.com", true, "None"},
		{"https, same host", "https://backstage.example.com/api/auth/p/handler/frame", "https://backstage.example.com:3000", true, "Lax"},
		{"https, same host other case", "https://Backstage.example.com/api/auth/p/handler/frame", "https://backstage.EXAMPLE.com", true, "Lax"},
		{"http, other host", "http://backstage.example.com/api/auth/p/handler/frame", "http://app.example.com", false, "Lax"},
		{"https, unparsable origin", "https://backstage.example.com/api/auth/p/handler/frame", "::", true, "Lax"},
		{"https, empty origin", "https://backstage.example.com/api/auth/p/handler/frame", "", true, "Lax"},
	}
	for _, tc := range cases {
		j := mustJar(t, "p", tc.callback)
		h := http.Header{}
		j.SetRefresh(h, nil, "v", time.Hour, tc.appOrigin, now)
		j.SetNonce(h, "n", tc.appOrigin, now)
		j.ClearRefresh(h, nil, tc.appOrigin, now)
		for _, line := range h.Values("Set-Cookie") {
			if strings.Contains(line, "; Secure") != tc.wantSecure {
				t.Errorf("%s: Secure wrong in %s", tc.name, line)
			}
			if !strings.HasSuffix(line, "; HttpOnly"+map[bool]string{true: "; Secure", false: ""}[tc.wantSecure]+"; SameSite="+tc.wantSameSite) {
				t.Errorf("%s: %s, want SameSite=%s", tc.name, line, tc.wantSameSite)
			}
		}
	}
}

func TestLegacyDomainSkippedWhenNotSerialisable(t *testing.T) {
	j := mustJar(t, "p", "http://[::1]:7007/api/auth/p/handler/frame")
	h := http.Header{}
	j.SetNonce(h, "n", "http://[::1]:3000", time.Unix(0, 0))
	if got := h.Values("Set-Cookie"); len(got) != 1 || strings.Contains(got[0], "Domain=") {
		t.Fatalf("got %q", got)
	}
}

func TestMaxAgeCap(t *testing.T) {
	now := time.Unix(1795777608, 0)
	j := mustJar(t, "p", pCallback)
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "Max-Age=34560000;"},
		{-time.Second, "Max-Age=34560000;"},
		{401 * 24 * time.Hour, "Max-Age=34560000;"},
		{24 * time.Hour, "Max-Age=86400;"},
		{1500 * time.Millisecond, "Max-Age=1;"},
	} {
		h := http.Header{}
		j.SetGrantedScope(h, nil, "openid", tc.in, captureOrigin, now)
		got := h.Values("Set-Cookie")
		if len(got) != 2 || !strings.Contains(got[1], tc.want) || !strings.HasPrefix(got[1], "p-granted-scope=openid; ") {
			t.Errorf("maxAge %v: %q, want %s", tc.in, got, tc.want)
		}
	}
}

// browser applies Set-Cookie lines to host-only cookies at the jar's path (the
// legacy Domain= deletions target other cookies and are ignored), then renders a
// Cookie header.
type browser map[string]string

func (b browser) apply(t *testing.T, h http.Header) {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		if strings.Contains(line, "; Domain=") {
			continue
		}
		nv, attrs, _ := strings.Cut(line, "; ")
		name, val, _ := strings.Cut(nv, "=")
		if strings.HasPrefix(attrs, "Max-Age=0;") {
			delete(b, name)
			continue
		}
		b[name] = val
	}
}

func (b browser) request() *http.Request {
	var pairs []string
	for k, v := range b {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return requestWithCookies(pairs...)
}

func (b browser) names() []string {
	var n []string
	for k := range b {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func TestChunking(t *testing.T) {
	now := time.Unix(1795777608, 0)
	j := mustJar(t, "p", pCallback)
	big := strings.Repeat("a", 3999) + "/" + strings.Repeat("b", 4000) + strings.Repeat("c", 1000) // 9000 chars
	b := browser{}

	h := http.Header{}
	j.SetRefresh(h, b.request(), big, 0, captureOrigin, now)
	lines := h.Values("Set-Cookie")
	if len(lines) != 4 || !strings.Contains(lines[0], "Domain=127.0.0.1") {
		t.Fatalf("want legacy deletion + 3 chunks, got %d lines", len(lines))
	}
	for i, prefix := range []string{"p-refresh-token-0=", "p-refresh-token-1=", "p-refresh-token-2="} {
		if !strings.HasPrefix(lines[i+1], prefix) || !strings.Contains(lines[i+1], "; Path=/api/auth/p;") {
			t.Fatalf("line %d = %.80s", i+1, lines[i+1])
		}
	}
	b.apply(t, h)
	if got, want := b.names(), []string{"p-refresh-token-0", "p-refresh-token-1", "p-refresh-token-2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("cookies = %v", got)
	}
	if got, ok := j.Refresh(b.request()); !ok || got != big {
		t.Fatalf("chunked read back failed (len %d)", len(got))
	}

	// Shrink 3 chunks -> 2 chunks: the stale third chunk goes (Backstage keeps it).
	mid := strings.Repeat("m", 4001)
	h = http.Header{}
	j.SetRefresh(h, b.request(), mid, 0, captureOrigin, now)
	b.apply(t, h)
	if got, want := b.names(), []string{"p-refresh-token-0", "p-refresh-token-1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after shrink to 2 chunks: %v", got)
	}
	if got, _ := j.Refresh(b.request()); got != mid {
		t.Fatal("2-chunk read back failed")
	}

	// Shrink to a plain cookie: every chunk is deleted.
	h = http.Header{}
	j.SetRefresh(h, b.request(), "small", 0, captureOrigin, now)
	b.apply(t, h)
	if got := b.names(); !reflect.DeepEqual(got, []string{"p-refresh-token"}) {
		t.Fatalf("after shrink to plain: %v", got)
	}
	if got, _ := j.Refresh(b.request()); got != "small" {
		t.Fatalf("plain read back = %q", got)
	}

	// Grow again: the plain cookie is deleted.
	h = http.Header{}
	j.SetRefresh(h, b.request(), big, 0, captureOrigin, now)
	if !strings.HasPrefix(h.Values("Set-Cookie")[1], "p-refresh-token=; Max-Age=0; Path=/api/auth/p;") {
		t.Fatalf("plain deletion missing: %.80s", h.Values("Set-Cookie")[1])
	}
	b.apply(t, h)
	if got := b.names(); len(got) != 3 || got[0] != "p-refresh-token-0" {
		t.Fatalf("after grow: %v", got)
	}

	// Clear deletes every chunk present.
	h = http.Header{}
	j.ClearRefresh(h, b.request(), captureOrigin, now)
	if len(h.Values("Set-Cookie")) != 3 {
		t.Fatalf("clear lines = %q", h.Values("Set-Cookie"))
	}
	b.apply(t, h)
	if len(b) != 0 {
		t.Fatalf("after clear: %v", b.names())
	}
	if _, ok := j.Refresh(b.request()); ok {
		t.Fatal("refresh present after clear")
	}
}

func TestChunkBoundaries(t *testing.T) {
	if got := splitChunks(strings.Repeat("x", 4000), ChunkSize); len(got) != 1 {
		t.Fatalf("4000 chars -> %d chunks", len(got))
	}
	if got := splitChunks(strings.Repeat("x", 8001), ChunkSize); len(got) != 3 || len(got[2]) != 1 {
		t.Fatalf("8001 chars -> %d chunks", len(got))
	}
	// Astral characters count 2 (UTF-16) and are never split.
	s := strings.Repeat("x", 3999) + "😀" + "y"
	got := splitChunks(s, ChunkSize)
	if len(got) != 2 || got[0] != strings.Repeat("x", 3999) || got[1] != "😀y" {
		t.Fatalf("astral split: %d chunks", len(got))
	}
}

func TestReadRules(t *testing.T) {
	j := mustJar(t, "p", pCallback)
	cases := []struct {
		cookie string
		want   string
		ok     bool
	}{
		{"", "", false},
		{"p-refresh-token=", "", false},
		{"p-refresh-token=a%2Bb%2F%3D", "a+b/=", true},
		{"p-refresh-token=%E2%82", "%E2%82", true}, // malformed escape kept raw
		{"p-refresh-token=first; p-refresh-token=second", "first", true},
		{"p-refresh-token=plain; p-refresh-token-0=c0; p-refresh-token-1=c1", "c0c1", true},
		{"p-refresh-token-0=c0; p-refresh-token-2=c2", "c0", true}, // stops at first gap
		{"p-refresh-token=plain; p-refresh-token-1=c1", "plain", true},
		{"p-refresh-token-0=; p-refresh-token=plain", "plain", true},
		{"other=1; p-refresh-token=\"quoted\"", "quoted", true},
	}
	for _, tc := range cases {
		got, ok := j.Refresh(requestWithCookies(tc.cookie))
		if got != tc.want || ok != tc.ok {
			t.Errorf("Refresh(%q) = %q, %v; want %q, %v", tc.cookie, got, ok, tc.want, tc.ok)
		}
	}
	// Several Cookie headers (HTTP/2) are read like one.
	r := requestWithCookies()
	r.Header.Add("Cookie", "a=1")
	r.Header.Add("Cookie", "p-granted-scope=openid%20email")
	if got, ok := j.GrantedScope(r); !ok || got != "openid email" {
		t.Fatalf("GrantedScope = %q, %v", got, ok)
	}
	if _, ok := j.Nonce(nil); ok {
		t.Fatal("nil request has a nonce")
	}
}

func BenchmarkSetRefresh(b *testing.B) {
	j := mustJar(b, "p", pCallback)
	r := requestWithCookies("p-refresh-token=old")
	val := strings.Repeat("v", 1200)
	now := time.Now()
	for b.Loop() {
		h := http.Header{}
		j.SetRefresh(h, r, val, 0, captureOrigin, now)
	}
}
