package origins

import (
	"fmt"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// patternOptions are the options Backstage compiles every origin pattern with, in
// auth-backend's createOriginFilter and backend-defaults' readCorsOptions:
// new Minimatch(pattern, {nocase: true, noglobstar: true}).
var patternOptions = jsrules.MinimatchOptions{NoCase: true, NoGlobstar: true}

// probeOrigins are origins no configuration can have meant to allow: random labels
// under the reserved .invalid TLD (RFC 2606) and documentation addresses (RFC 5737,
// RFC 3849), with and without a port, over http and https. A pattern matching any of
// them would allow every origin (or every host of a scheme): "https://*", "*://*",
// "http*://*:*", "!https://x". The labels are fixed so that start-up is repeatable.
var probeOrigins = []string{
	"https://q7xz0k3v9w.invalid",
	"http://q7xz0k3v9w.invalid",
	"https://m2r8t5.b4n1k6.invalid:8443",
	"http://m2r8t5.b4n1k6.invalid:8080",
	"https://z9-w3.h0u7e2y5.c8.invalid:1",
	"http://192.0.2.57",
	"https://198.51.100.23:3000",
	"http://[2001:db8::57]:7007",
}

// Patterns is a compiled list of origin patterns.
type Patterns struct {
	list []*jsrules.Minimatch
}

// Add compiles pattern as Backstage does; errors name key (e.g.
// "backend.cors.origin[2]"). A pattern that would allow every origin is refused.
func (p *Patterns) Add(key, pattern string) error {
	mm, err := jsrules.CompileMinimatch(pattern, patternOptions)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	for _, probe := range probeOrigins {
		if mm.Match(probe) {
			return fmt.Errorf("%s: pattern %s would allow every origin (it matches %s); list the origins to allow, e.g. \"https://*.example.com\"",
				key, jsrules.QuoteString(pattern), probe)
		}
	}
	p.list = append(p.list, mm)
	return nil
}

// Match reports whether origin matches any pattern, as minimatch would decide.
func (p *Patterns) Match(origin string) bool {
	if p == nil {
		return false
	}
	for _, mm := range p.list {
		if mm.Match(origin) {
			return true
		}
	}
	return false
}

// Len is the number of patterns.
func (p *Patterns) Len() int {
	if p == nil {
		return 0
	}
	return len(p.list)
}
