package authserver

import (
	"net/url"
	"testing"
	"time"
)

func TestURLPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern, url string
		want         bool
	}{
		{"https://claude.ai/*", "https://claude.ai/oauth/mcp/client.json", true},
		{"https://claude.ai/*", "https://CLAUDE.ai/x", true}, // hosts are lower-cased, globs case-insensitive
		{"https://claude.ai/*", "https://claude.ai.evil.com/x", false},
		{"https://claude.ai/*", "http://claude.ai/x", false},
		{"https://claude.ai/*", "https://claude.ai:8443/x", false}, // the port must match, empty included
		{"https://claude.ai/*", "https://claude.ai:443/x", true},   // the default port is no port
		{"https://chatgpt.com/oauth/codex/*/client.json", "https://chatgpt.com/oauth/codex/abc/client.json", true},
		{"https://chatgpt.com/oauth/codex/*/client.json", "https://chatgpt.com/oauth/codex/abc/other.json", false},
		{"https://*.example.com/*", "https://a.example.com/x", true},
		{"https://*.example.com/*", "https://example.com/x", false},
		{"http://127.0.0.1:*/*", "http://127.0.0.1:49152/cb", true},
		{"http://127.0.0.1:*/*", "http://127.0.0.1/cb", true},
		{"http://127.0.0.1/*", "http://127.0.0.1:80/cb", true},
		{"http://127.0.0.1/*", "http://127.0.0.1:81/cb", false},
		{"http://[::1]:*/*", "http://[::1]:3000/cb", true},
		{"*", "anything:at-all", true},
		{"https://cursor.com/oauth/mcp-client.json", "https://cursor.com/oauth/mcp-client.json", true},
		{"https://cursor.com/oauth/mcp-client.json", "https://cursor.com/oauth/mcp-client.jsonx", false},
	} {
		p, err := compilePattern(tc.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.match(canonURL(u)); got != tc.want {
			t.Errorf("%s matches %s = %v, want %v", tc.pattern, tc.url, got, tc.want)
		}
	}
	for _, bad := range []string{"claude.ai/*", "//claude.ai/*", "*.example.com"} {
		if _, err := compilePattern(bad); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
	if p, _ := compilePattern("https://cursor.com/oauth/mcp-client.json"); !p.exact {
		t.Error("a wildcard-free pattern is not exact")
	}
}

func TestCacheTTL(t *testing.T) {
	for h, want := range map[string]time.Duration{
		"":                      cimdDefaultTTL,
		"max-age=30":            30 * time.Second,
		"public, max-age=86400": cimdMaxTTL,
		"no-store":              0,
		"max-age=60, no-cache":  0,
		"private, max-age=60":   0,
		"max-age=bogus":         0,
		"must-revalidate":       cimdDefaultTTL,
	} {
		if got := cacheTTL(h); got != want {
			t.Errorf("cacheTTL(%q) = %v, want %v", h, got, want)
		}
	}
}
