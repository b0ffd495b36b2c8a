package jsrules

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"unicode/utf8"
)

// This file is a JSON serialiser that produces exactly what JavaScript's
// JSON.stringify produces for the same value. Verifiers rebuild the limited user
// token from a full token by re-serialising {typ,alg,kid} and {sub,iat,exp} with
// JSON.stringify and appending uip, so a single differing byte (an escaped "<", an
// escaped U+2028, a different key order) makes every uip-based check fail.

const hexDigits = "0123456789abcdef"

// AppendString appends s as JSON.stringify would: only '"', '\\' and control
// characters are escaped (\b \f \n \r \t short forms, others \u00xx lower-case);
// "<", ">", "&", U+2028, U+2029 and all non-ASCII runes stay raw. Invalid UTF-8
// (which a JavaScript string cannot hold) becomes U+FFFD the way a JavaScript
// UTF-8 decoder (TextDecoder, Buffer#toString) reads it: one U+FFFD for each maximal
// invalid subsequence.
func AppendString(dst []byte, s string) []byte {
	return appendString(dst, s, false)
}

// appendString is AppendString; with wtf8, a surrogate encoded as if it were a
// character (ED A0..BF xx, from a JSON "\ud800" escape) is written as JSON.stringify
// writes a lone surrogate: "\ud800".
func appendString(dst []byte, s string, wtf8 bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			if sur, ok := surrogateAt(s[i:]); wtf8 && ok {
				dst = append(dst, '\\', 'u', hexDigits[sur>>12], hexDigits[sur>>8&0xf], hexDigits[sur>>4&0xf], hexDigits[sur&0xf])
				i += 3
			} else {
				dst = append(dst, "\uFFFD"...)
				i += invalidLen(s[i:])
			}
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// surrogateAt decodes a surrogate code point encoded like a character (WTF-8).
func surrogateAt(s string) (rune, bool) {
	if len(s) >= 3 && s[0] == 0xED && s[1] >= 0xA0 && s[1] <= 0xBF && s[2] >= 0x80 && s[2] <= 0xBF {
		return 0xD000 | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F), true
	}
	return 0, false
}

// invalidLen is the length of the maximal invalid subsequence at the start of s (s
// does not start with a valid character): a lead byte and the continuation bytes
// that could still have completed it, as the WHATWG UTF-8 decoder counts them.
func invalidLen(s string) int {
	c := s[0]
	need := 0
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c >= 0xE0 && c <= 0xEF:
		need = 2
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	case c >= 0xF0 && c <= 0xF4:
		need = 3
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(s) && s[n] >= lo && s[n] <= hi {
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}

// ToValidUTF8 replaces invalid UTF-8 in s as a JavaScript decoder does.
func ToValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
			i += invalidLen(s[i:])
			continue
		}
		b = append(b, s[i:i+size]...)
		i += size
	}
	return string(b)
}

// AppendNumber formats f like JavaScript's Number.prototype.toString, which is
// what JSON.stringify uses. Non-finite numbers become null, as in JavaScript.
func AppendNumber(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0') // -0 is "0" in JavaScript
	}
	abs := math.Abs(f)
	if abs < 1e21 && abs >= 1e-6 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	// Exponent form: shortest digits, "e+21"/"e-7" (no zero padding).
	b := strconv.AppendFloat(nil, f, 'e', -1, 64)
	n := len(b)
	if n >= 4 && b[n-4] == 'e' && b[n-2] == '0' {
		// e-07 -> e-7, e+09 -> e+9
		b = append(b[:n-2], b[n-1])
	}
	return append(dst, b...)
}

// isArrayIndexKey reports whether JavaScript would treat k as an integer index
// property (canonical decimal below 2^32-1); such keys come first in an object's
// own-key order, ascending.
func isArrayIndexKey(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') || !isDigits(k) {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil || n >= 1<<32-1 {
		return 0, false
	}
	return n, true
}

// SortKeys orders keys the way a JavaScript object built from them would list
// them, given that a Go map has no insertion order: integer-like keys ascending
// first, then the rest sorted (deterministic stand-in for insertion order).
func SortKeys(keys []string) {
	sort.Slice(keys, func(i, j int) bool {
		a, aIdx := isArrayIndexKey(keys[i])
		b, bIdx := isArrayIndexKey(keys[j])
		switch {
		case aIdx && bIdx:
			return a < b
		case aIdx != bIdx:
			return aIdx
		default:
			return keys[i] < keys[j]
		}
	})
}

// AppendValue appends v serialised as JSON.stringify would. Common JSON-ish
// Go types are handled directly; anything else goes through encoding/json first
// (so struct tags and Marshalers apply) and is then re-serialised.
func AppendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return AppendString(dst, x), nil
	case bool:
		if x {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case float64:
		return AppendNumber(dst, x), nil
	case float32:
		return AppendNumber(dst, float64(x)), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return dst, fmt.Errorf("invalid JSON number %q: %w", string(x), err)
		}
		return AppendNumber(dst, f), nil
	case []string:
		dst = append(dst, '[')
		for i, s := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, s)
		}
		return append(dst, ']'), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = AppendValue(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k) // Go has no undefined: every member is kept
		}
		SortKeys(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = AppendValue(dst, x[k]); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case json.RawMessage:
		return AppendJSON(dst, x)
	}
	// Typed nil pointers/maps/slices are JSON null like encoding/json would make them.
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map ||
		rv.Kind() == reflect.Slice || rv.Kind() == reflect.Interface) && rv.IsNil() {
		return append(dst, "null"...), nil
	}
	raw, err := Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("value of type %T cannot be serialised: %w", v, err)
	}
	return append(dst, raw...), nil
}

// Stringify returns the JSON.stringify serialisation of v.
func Stringify(v any) ([]byte, error) {
	return AppendValue(nil, v)
}
