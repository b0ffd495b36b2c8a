package oauthstate

import (
	"strings"
	"unicode/utf8"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

// State is Backstage's OAuth state. Empty fields are omitted when encoding.
type State struct {
	Nonce       string
	Env         string
	Origin      string
	RedirectURL string
	Flow        string
	Scope       string
}

const hexDigits = "0123456789abcdef"

// Encode returns the lowercase hex of the form-encoded state, fields in Backstage's
// insertion order: nonce, env, origin, redirectUrl, flow, scope.
func Encode(s State) string {
	var q strings.Builder
	add := func(key, val string) {
		if val == "" {
			return
		}
		if q.Len() > 0 {
			q.WriteByte('&')
		}
		q.WriteString(key)
		q.WriteByte('=')
		formEncode(&q, val)
	}
	add("nonce", s.Nonce)
	add("env", s.Env)
	add("origin", s.Origin)
	add("redirectUrl", s.RedirectURL)
	add("flow", s.Flow)
	add("scope", s.Scope)

	src := q.String()
	out := make([]byte, 2*len(src))
	for i := 0; i < len(src); i++ {
		out[2*i] = hexDigits[src[i]>>4]
		out[2*i+1] = hexDigits[src[i]&0x0f]
	}
	return string(out)
}

// formEncode is the WHATWG application/x-www-form-urlencoded byte serializer used by
// URLSearchParams.toString(). Invalid UTF-8 becomes U+FFFD first, as a JS string
// (a USVString) cannot hold it.
func formEncode(b *strings.Builder, s string) {
	const upperHex = "0123456789ABCDEF"
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case c == '*' || c == '-' || c == '.' || c == '_',
			'0' <= c && c <= '9', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&0x0f])
		}
	}
}

// Decode parses an encoded state the way Backstage's decodeOAuthState does. It never
// panics; a state without env or nonce is a NotAllowedError, as in Backstage.
func Decode(encoded string) (State, error) {
	query := decodeUTF8(nodeHexDecode(encoded))
	var s State
	for _, kv := range parseForm(query) {
		switch kv[0] {
		case "nonce":
			s.Nonce = kv[1]
		case "env":
			s.Env = kv[1]
		case "origin":
			s.Origin = kv[1]
		case "redirectUrl":
			s.RedirectURL = kv[1]
		case "flow":
			s.Flow = kv[1]
		case "scope":
			s.Scope = kv[1]
		}
	}
	if s.Env == "" {
		return State{}, backstageerr.NotAllowed("OAuth state is invalid, missing env")
	}
	if s.Nonce == "" {
		return State{}, backstageerr.NotAllowed("OAuth state is invalid, missing nonce")
	}
	return s, nil
}

// nodeHexDecode mirrors Buffer.from(s, 'hex'): pairs are decoded until the first
// invalid one; a trailing odd nibble is dropped.
func nodeHexDecode(s string) []byte {
	out := make([]byte, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			break
		}
		out = append(out, hi<<4|lo)
	}
	return out
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

// parseForm is the WHATWG application/x-www-form-urlencoded parser behind
// new URLSearchParams(string), including its stripping of one leading '?'.
func parseForm(input string) [][2]string {
	input = strings.TrimPrefix(input, "?")
	var out [][2]string
	for _, seq := range strings.Split(input, "&") {
		if seq == "" {
			continue
		}
		name, value, _ := strings.Cut(seq, "=")
		name = strings.ReplaceAll(name, "+", " ")
		value = strings.ReplaceAll(value, "+", " ")
		out = append(out, [2]string{decodeUTF8(percentDecode(name)), decodeUTF8(percentDecode(value))})
	}
	return out
}

// percentDecode is WHATWG percent-decoding: "%XX" becomes a byte, anything else
// (including a malformed escape) is kept as-is.
func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}

// decodeUTF8 is the WHATWG UTF-8 decoder (as V8 and Node use it): each maximal
// invalid subpart becomes one U+FFFD. Go's own decoding differs (one U+FFFD per bad
// byte), which would make our states decode differently from Node's.
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	out.Grow(len(b) + 8)
	var cp rune
	needed, seen := 0, 0
	lower, upper := byte(0x80), byte(0xBF)
	for i := 0; i < len(b); {
		c := b[i]
		if needed == 0 {
			i++
			switch {
			case c <= 0x7F:
				out.WriteByte(c)
			case 0xC2 <= c && c <= 0xDF:
				needed, cp = 1, rune(c&0x1F)
			case 0xE0 <= c && c <= 0xEF:
				if c == 0xE0 {
					lower = 0xA0
				} else if c == 0xED {
					upper = 0x9F
				}
				needed, cp = 2, rune(c&0x0F)
			case 0xF0 <= c && c <= 0xF4:
				if c == 0xF0 {
					lower = 0x90
				} else if c == 0xF4 {
					upper = 0x8F
				}
				needed, cp = 3, rune(c&0x07)
			default:
				out.WriteRune(utf8.RuneError)
			}
			continue
		}
		if c < lower || c > upper {
			// The offending byte is not consumed: it starts the next sequence.
			cp, needed, seen = 0, 0, 0
			lower, upper = 0x80, 0xBF
			out.WriteRune(utf8.RuneError)
			continue
		}
		i++
		lower, upper = 0x80, 0xBF
		cp = cp<<6 | rune(c&0x3F)
		seen++
		if seen == needed {
			out.WriteRune(cp)
			cp, needed, seen = 0, 0, 0
		}
	}
	if needed != 0 {
		out.WriteRune(utf8.RuneError)
	}
	return out.String()
}
