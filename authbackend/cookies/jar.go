package cookies

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// DefaultMaxAge is the refresh/granted-scope cookie lifetime when none is given,
	// and the cap for any given one: browsers cap cookies at 400 days, so
	// Backstage's 1000 days is never honoured.
	DefaultMaxAge = 400 * 24 * time.Hour
	// NonceMaxAge is the nonce cookie lifetime (Backstage: ten minutes).
	NonceMaxAge = 10 * time.Minute
	// ChunkSize is Backstage's MAX_COOKIE_SIZE_CHARACTERS: longer values are split
	// into <name>-0, <name>-1, ... of this many characters (UTF-16 code units).
	ChunkSize = 4000
	// maxChunks bounds chunk reading and stale-chunk deletion.
	maxChunks = 64
)

// Jar reads and writes one provider environment's cookies. It holds no per-request
// state and is safe for concurrent use.
type Jar struct {
	providerID   string
	path         string
	secure       bool
	callbackHost string
	legacyDomain string // Domain for the legacy-cookie deletion; "" when not expressible

	nonceName   string
	refreshName string
	scopeName   string
}

// NewJar builds the jar of provider providerID whose OAuth callback is callbackURL.
// The cookie path follows Backstage's default cookie configurer, including its quirk:
// a callback path not ending in "<p>/handler/frame" gives "<callback path>/<p>".
func NewJar(providerID, callbackURL string) (*Jar, error) {
	if !isCookieName(providerID) {
		return nil, fmt.Errorf("cookies: provider id %q is not usable in a cookie name", providerID)
	}
	u, err := url.Parse(callbackURL)
	if err != nil {
		return nil, fmt.Errorf("cookies: callback URL %q: %w", callbackURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return nil, fmt.Errorf("cookies: callback URL %q is not an absolute http(s) URL", callbackURL)
	}
	pathname := u.EscapedPath()
	if pathname == "" {
		pathname = "/"
	}
	if hasDotSegment(pathname) {
		return nil, fmt.Errorf("cookies: callback URL %q has dot segments", callbackURL)
	}
	var path string
	if strings.HasSuffix(pathname, providerID+"/handler/frame") {
		path = strings.TrimSuffix(pathname, "/handler/frame")
	} else {
		path = pathname + "/" + providerID
	}
	if !isCookiePath(path) {
		return nil, fmt.Errorf("cookies: cookie path %q derived from callback URL %q is invalid", path, callbackURL)
	}
	host := strings.ToLower(u.Hostname())
	j := &Jar{
		providerID:   providerID,
		path:         path,
		secure:       u.Scheme == "https",
		callbackHost: host,
		nonceName:    providerID + "-nonce",
		refreshName:  providerID + "-refresh-token",
		scopeName:    providerID + "-granted-scope",
	}
	// express would throw on a Domain it cannot serialise (an IPv6 literal, '_');
	// for those hosts there can be no legacy domain cookie to clear anyway.
	if isCookieDomain(host) {
		j.legacyDomain = host
	}
	return j, nil
}

// Path is the cookie path of the refresh and granted-scope cookies; the nonce cookie
// lives at Path()+"/handler".
func (j *Jar) Path() string { return j.path }

// NonceName, RefreshName and GrantedScopeName are the cookie names.
func (j *Jar) NonceName() string        { return j.nonceName }
func (j *Jar) RefreshName() string      { return j.refreshName }
func (j *Jar) GrantedScopeName() string { return j.scopeName }

// SetNonce sets <p>-nonce for ten minutes at <path>/handler, after the legacy
// Domain=<callback host> deletion Backstage emits first.
func (j *Jar) SetNonce(h http.Header, nonce string, appOrigin string, now time.Time) {
	o := j.options(appOrigin)
	j.legacyDelete(h, j.nonceName, o, now)
	o.path = j.path + "/handler"
	h.Add("Set-Cookie", serialize(j.nonceName, nonce, NonceMaxAge, o, now))
}

// ClearNonce deletes <p>-nonce (at <path>/handler, where SetNonce put it).
func (j *Jar) ClearNonce(h http.Header, appOrigin string, now time.Time) {
	o := j.options(appOrigin)
	o.path = j.path + "/handler"
	h.Add("Set-Cookie", serialize(j.nonceName, "", 0, o, now))
}

// Nonce returns the nonce cookie (chunk-aware, like every Backstage cookie read).
func (j *Jar) Nonce(r *http.Request) (string, bool) { return readChunked(parseRequest(r), j.nonceName) }

// SetRefresh sets <p>-refresh-token (chunked above 4000 characters). maxAge <= 0
// means DefaultMaxAge; larger values are capped to it.
func (j *Jar) SetRefresh(h http.Header, r *http.Request, value string, maxAge time.Duration, appOrigin string, now time.Time) {
	j.set(h, r, j.refreshName, value, capMaxAge(maxAge), appOrigin, now)
}

// Refresh returns the refresh cookie: <p>-refresh-token-0.. up to the first missing
// chunk when chunk 0 exists, else <p>-refresh-token. Empty counts as missing.
func (j *Jar) Refresh(r *http.Request) (string, bool) {
	return readChunked(parseRequest(r), j.refreshName)
}

// ClearRefresh deletes the refresh cookie and every chunk the request carries.
func (j *Jar) ClearRefresh(h http.Header, r *http.Request, appOrigin string, now time.Time) {
	j.remove(h, r, j.refreshName, appOrigin, now)
}

// SetGrantedScope sets <p>-granted-scope (for authenticators that persist scopes).
func (j *Jar) SetGrantedScope(h http.Header, r *http.Request, scope string, maxAge time.Duration, appOrigin string, now time.Time) {
	j.set(h, r, j.scopeName, scope, capMaxAge(maxAge), appOrigin, now)
}

// GrantedScope returns the granted-scope cookie.
func (j *Jar) GrantedScope(r *http.Request) (string, bool) {
	return readChunked(parseRequest(r), j.scopeName)
}

// ClearGrantedScope deletes the granted-scope cookie and its chunks.
func (j *Jar) ClearGrantedScope(h http.Header, r *http.Request, appOrigin string, now time.Time) {
	j.remove(h, r, j.scopeName, appOrigin, now)
}

func capMaxAge(d time.Duration) time.Duration {
	if d <= 0 || d > DefaultMaxAge {
		return DefaultMaxAge
	}
	return d
}

type cookieOptions struct {
	domain   string
	path     string
	secure   bool
	sameSite string
}

// options is Backstage's getConfig: SameSite=None only for a Secure cookie whose app
// host differs from the callback host.
func (j *Jar) options(appOrigin string) cookieOptions {
	o := cookieOptions{path: j.path, secure: j.secure, sameSite: "Lax"}
	if j.secure {
		if u, err := url.Parse(appOrigin); err == nil && u.Hostname() != "" &&
			strings.ToLower(u.Hostname()) != j.callbackHost {
			o.sameSite = "None"
		}
	}
	return o
}

// legacyDelete clears a cookie set with Domain=<callback host> by older Backstage
// versions (it caused redirect loops); always at the base path.
func (j *Jar) legacyDelete(h http.Header, name string, o cookieOptions, now time.Time) {
	if j.legacyDomain == "" {
		return
	}
	o.domain = j.legacyDomain
	o.path = j.path
	h.Add("Set-Cookie", serialize(name, "", 0, o, now))
}

// set is OAuthCookieManager.setCookie, plus deletion of chunks a shorter value no
// longer uses.
func (j *Jar) set(h http.Header, r *http.Request, name, value string, maxAge time.Duration, appOrigin string, now time.Time) {
	o := j.options(appOrigin)
	present := parseRequest(r)
	j.legacyDelete(h, name, o, now)

	if jsLength(value) > ChunkSize {
		if present[name] != "" {
			h.Add("Set-Cookie", serialize(name, "", 0, o, now))
		}
		chunks := splitChunks(value, ChunkSize)
		for i, c := range chunks {
			h.Add("Set-Cookie", serialize(chunkName(name, i), c, maxAge, o, now))
		}
		for i := len(chunks); i < maxChunks && present[chunkName(name, i)] != ""; i++ {
			h.Add("Set-Cookie", serialize(chunkName(name, i), "", 0, o, now))
		}
		return
	}
	for i := 0; i < maxChunks && present[chunkName(name, i)] != ""; i++ {
		h.Add("Set-Cookie", serialize(chunkName(name, i), "", 0, o, now))
	}
	h.Add("Set-Cookie", serialize(name, value, maxAge, o, now))
}

// remove is OAuthCookieManager.removeCookie (no legacy-domain deletion, as capture 24).
func (j *Jar) remove(h http.Header, r *http.Request, name, appOrigin string, now time.Time) {
	o := j.options(appOrigin)
	present := parseRequest(r)
	if present[chunkName(name, 0)] == "" {
		h.Add("Set-Cookie", serialize(name, "", 0, o, now))
		return
	}
	if present[name] != "" {
		h.Add("Set-Cookie", serialize(name, "", 0, o, now))
	}
	for i := 0; i < maxChunks && present[chunkName(name, i)] != ""; i++ {
		h.Add("Set-Cookie", serialize(chunkName(name, i), "", 0, o, now))
	}
}

func chunkName(name string, i int) string { return name + "-" + strconv.Itoa(i) }

func readChunked(cookies map[string]string, name string) (string, bool) {
	if cookies[chunkName(name, 0)] != "" {
		var b strings.Builder
		for i := 0; i < maxChunks; i++ {
			c := cookies[chunkName(name, i)]
			if c == "" {
				break
			}
			b.WriteString(c)
		}
		return b.String(), true
	}
	v := cookies[name]
	return v, v != ""
}

// jsLength is a string's length in UTF-16 code units (JavaScript's .length).
func jsLength(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// splitChunks splits s into pieces of at most size UTF-16 code units, never inside a
// character (Backstage can split a surrogate pair, which encodeURIComponent rejects).
func splitChunks(s string, size int) []string {
	var out []string
	start, units := 0, 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if units+w > size {
			out = append(out, s[start:i])
			start, units = i, 0
		}
		units += w
	}
	return append(out, s[start:])
}

// serialize renders one Set-Cookie value exactly as express res.cookie + cookie 0.7
// do: Max-Age (floor seconds), Domain, Path, Expires (now+maxAge, toUTCString),
// HttpOnly, Secure, SameSite.
func serialize(name, value string, maxAge time.Duration, o cookieOptions, now time.Time) string {
	var b strings.Builder
	b.Grow(len(name) + len(value) + 128)
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(encodeURIComponent(value))
	ms := maxAge.Milliseconds()
	b.WriteString("; Max-Age=")
	b.WriteString(strconv.FormatInt(ms/1000, 10))
	if o.domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(o.domain)
	}
	b.WriteString("; Path=")
	b.WriteString(o.path)
	b.WriteString("; Expires=")
	b.WriteString(time.UnixMilli(now.UnixMilli() + ms).UTC().Format(http.TimeFormat))
	b.WriteString("; HttpOnly")
	if o.secure {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=")
	b.WriteString(o.sameSite)
	return b.String()
}

// encodeURIComponent escapes everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ). Bytes of
// invalid UTF-8 (impossible in JS) are escaped one by one.
func encodeURIComponent(s string) string {
	const upperHex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0x0f])
	}
	return b.String()
}

var errURIMalformed = errors.New("URI malformed")

// decodeURIComponent is JavaScript's: every %XX is decoded, and a malformed escape or
// a byte sequence that is not valid UTF-8 is an error.
func decodeURIComponent(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			out = append(out, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errURIMalformed
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", errURIMalformed
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	if !utf8.Valid(out) {
		return "", errURIMalformed
	}
	return string(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseRequest parses every Cookie header of r (Node joins repeated headers with
// "; ") with ParseCookieHeader. A nil request has no cookies.
func parseRequest(r *http.Request) map[string]string {
	if r == nil {
		return map[string]string{}
	}
	return ParseCookieHeader(strings.Join(r.Header.Values("Cookie"), "; "))
}

// ParseCookieHeader parses a Cookie header like the `cookie` npm package (0.7):
// pairs without '=' are skipped, names and values are trimmed of spaces and tabs, one
// pair of surrounding double quotes is removed, the first value of a name wins, and
// values containing '%' are decodeURIComponent-ed unless that fails (then kept raw).
// Unlike net/http it keeps values with characters RFC 6265 disallows, as Node does.
func ParseCookieHeader(str string) map[string]string {
	obj := map[string]string{}
	n := len(str)
	if n < 2 {
		return obj
	}
	index := 0
	for index < n {
		eqIdx := strings.IndexByte(str[index:], '=')
		if eqIdx < 0 {
			break
		}
		eqIdx += index
		endIdx := n
		if semi := strings.IndexByte(str[index:], ';'); semi >= 0 {
			endIdx = index + semi
		}
		if eqIdx > endIdx {
			// A pair without '=': resume after the last ';' before the '='.
			index = strings.LastIndexByte(str[:eqIdx], ';') + 1
			continue
		}
		keyStart := startIndex(str, index, eqIdx)
		keyEnd := endIndex(str, eqIdx, keyStart)
		key := str[keyStart:keyEnd]
		if _, seen := obj[key]; !seen {
			valStart := startIndex(str, eqIdx+1, endIdx)
			valEnd := endIndex(str, endIdx, valStart)
			if valStart < valEnd && str[valStart] == '"' && str[valEnd-1] == '"' {
				valStart++
				valEnd--
			}
			val := ""
			if valStart < valEnd {
				val = str[valStart:valEnd]
			}
			if dec, err := decodeURIComponent(val); err == nil {
				val = dec
			}
			obj[key] = val
		}
		index = endIdx + 1
	}
	return obj
}

func startIndex(s string, i, max int) int {
	for ; i < max; i++ {
		if s[i] != ' ' && s[i] != '\t' {
			return i
		}
	}
	return max
}

func endIndex(s string, i, min int) int {
	for i > min {
		i--
		if s[i] != ' ' && s[i] != '\t' {
			return i + 1
		}
	}
	return min
}

// isCookieName is cookie 0.7's cookieNameRegExp (an RFC 7230 token).
func isCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// isCookiePath is cookie 0.7's pathValueRegExp: 0x20-0x3A and 0x3D-0x7E.
func isCookiePath(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == ';' || c == '<' {
			return false
		}
	}
	return true
}

// isCookieDomain is cookie 0.7's domainValueRegExp.
func isCookieDomain(s string) bool {
	if s == "" {
		return false
	}
	for _, label := range strings.Split(strings.TrimPrefix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		switch strings.ToLower(seg) {
		case ".", "..", "%2e", "%2e.", ".%2e", "%2e%2e":
			return true
		}
	}
	return false
}
