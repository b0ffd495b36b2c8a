package oauth2engine

import (
	"net/url"
	"strings"
)

// Param is one query or form parameter.
type Param struct {
	Key   string
	Value string
}

// Params is an ordered parameter list with the semantics of a JavaScript object
// serialised by Node's querystring: Set replaces a key's value where the key first
// appeared (dropping its other values), Encode writes keys in insertion order. The
// passport strategies build authorize URLs and token bodies this way, so URLs and
// bodies come out in the order Backstage sends them.
type Params []Param

// Set sets key to value, in place when key is already present.
func (ps *Params) Set(key, value string) {
	out := (*ps)[:0]
	done := false
	for _, p := range *ps {
		if p.Key != key {
			out = append(out, p)
			continue
		}
		if !done {
			out = append(out, Param{key, value})
			done = true
		}
	}
	if !done {
		out = append(out, Param{key, value})
	}
	*ps = out
}

// Get returns the first value of key.
func (ps Params) Get(key string) (string, bool) {
	for _, p := range ps {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Encode serialises the parameters as Node's querystring.stringify does: key=value
// pairs joined by "&", escaped with querystring.escape (space as %20; A-Z a-z 0-9 and
// - . _ ~ ! * ' ( ) kept).
func (ps Params) Encode() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(QueryEscape(p.Key))
		b.WriteByte('=')
		b.WriteString(QueryEscape(p.Value))
	}
	return b.String()
}

// QueryEscape is Node's querystring.escape for a UTF-8 string.
func QueryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if nodeUnescaped(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}

func nodeUnescaped(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!*'()", c) >= 0
}

// ParseQuery parses a query string as Node's querystring.parse does ("+" is a space,
// an invalid %-escape is kept as it is, a key without "=" has the value ""), keeping
// the order and every value of repeated keys.
func ParseQuery(s string) Params {
	var ps Params
	for part := range strings.SplitSeq(s, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		ps = append(ps, Param{nodeUnescape(k), nodeUnescape(v)})
	}
	return ps
}

func nodeUnescape(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	// Node decodes the valid escapes and keeps the others; decode piecewise.
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if u, err := url.PathUnescape(s[i : i+3]); err == nil {
				b.WriteString(u)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// authorizeURL returns base with its own query (kept in order, as url.parse(…, true)
// reads it) merged with ps, and its fragment kept: what passport-oauth2 builds with
// utils.merge and url.format.
func authorizeURL(base string, ps Params) string {
	rest, frag, hasFrag := strings.Cut(base, "#")
	path, query, _ := strings.Cut(rest, "?")
	q := ParseQuery(query)
	for _, p := range ps {
		q.Set(p.Key, p.Value)
	}
	out := path
	if enc := q.Encode(); enc != "" {
		out += "?" + enc
	}
	if hasFrag {
		out += "#" + frag
	}
	return out
}
