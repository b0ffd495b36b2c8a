package jsrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// AppendJSON appends JSON.stringify(JSON.parse(raw)): member order is kept except
// that integer-like keys come first (ascending), a repeated key keeps its first
// position and its last value, strings are re-escaped the JavaScript way (a lone
// surrogate escape stays an escape, raw invalid UTF-8 is decoded as JavaScript would)
// and numbers are printed as JavaScript prints them.
func AppendJSON(dst, raw []byte) ([]byte, error) {
	p := &jsonText{data: raw}
	p.space()
	out, err := p.value(dst, 0)
	if err != nil {
		return dst, err
	}
	p.space()
	if p.i != len(p.data) {
		return dst, p.errorf("unexpected data after the value")
	}
	return out, nil
}

const maxJSONDepth = 1000

type jsonText struct {
	data []byte
	i    int
}

func (p *jsonText) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonText) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonText) literal(dst []byte, word string) ([]byte, error) {
	if !bytes.HasPrefix(p.data[p.i:], []byte(word)) {
		return dst, p.errorf("invalid literal")
	}
	p.i += len(word)
	return append(dst, word...), nil
}

type jsonMember struct {
	key string
	val []byte
}

func (p *jsonText) value(dst []byte, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return dst, p.errorf("nested too deeply")
	}
	if p.i >= len(p.data) {
		return dst, p.errorf("unexpected end")
	}
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object(dst, depth)
	case c == '[':
		p.i++
		dst = append(dst, '[')
		p.space()
		if p.i < len(p.data) && p.data[p.i] == ']' {
			p.i++
			return append(dst, ']'), nil
		}
		for n := 0; ; n++ {
			if n > 0 {
				dst = append(dst, ',')
			}
			p.space()
			var err error
			if dst, err = p.value(dst, depth+1); err != nil {
				return dst, err
			}
			p.space()
			if p.i >= len(p.data) {
				return dst, p.errorf("unterminated array")
			}
			if p.data[p.i] == ']' {
				p.i++
				return append(dst, ']'), nil
			}
			if p.data[p.i] != ',' {
				return dst, p.errorf("expected , or ]")
			}
			p.i++
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return dst, err
		}
		return appendString(dst, s, true), nil
	case c == 't':
		return p.literal(dst, "true")
	case c == 'f':
		return p.literal(dst, "false")
	case c == 'n':
		return p.literal(dst, "null")
	default:
		return p.number(dst)
	}
}

func (p *jsonText) object(dst []byte, depth int) ([]byte, error) {
	p.i++
	var members []jsonMember
	var index map[string]int
	p.space()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return append(dst, '{', '}'), nil
	}
	for {
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return dst, p.errorf("expected a string key")
		}
		key, err := p.str()
		if err != nil {
			return dst, err
		}
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return dst, p.errorf("expected :")
		}
		p.i++
		p.space()
		val, err := p.value(nil, depth+1)
		if err != nil {
			return dst, err
		}
		// A repeated key keeps its first position and takes the last value.
		if index == nil && len(members) >= 8 {
			index = make(map[string]int, 2*len(members))
			for j, m := range members {
				index[m.key] = j
			}
		}
		j := -1
		if index != nil {
			if k, ok := index[key]; ok {
				j = k
			}
		} else {
			for k := range members {
				if members[k].key == key {
					j = k
					break
				}
			}
		}
		if j >= 0 {
			members[j].val = val
		} else {
			if index != nil {
				index[key] = len(members)
			}
			members = append(members, jsonMember{key, val})
		}
		p.space()
		if p.i >= len(p.data) {
			return dst, p.errorf("unterminated object")
		}
		if p.data[p.i] == '}' {
			p.i++
			break
		}
		if p.data[p.i] != ',' {
			return dst, p.errorf("expected , or }")
		}
		p.i++
	}
	// Integer-like keys first, ascending; the rest in order.
	sort.SliceStable(members, func(a, b int) bool {
		x, xi := isArrayIndexKey(members[a].key)
		y, yi := isArrayIndexKey(members[b].key)
		if xi && yi {
			return x < y
		}
		return xi && !yi
	})
	dst = append(dst, '{')
	for j, m := range members {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, m.key, true)
		dst = append(dst, ':')
		dst = append(dst, m.val...)
	}
	return append(dst, '}'), nil
}

// str decodes a JSON string. Raw invalid UTF-8 becomes U+FFFD as a JavaScript
// decoder makes it; an escaped lone surrogate is kept (WTF-8 encoded).
func (p *jsonText) str() (string, error) {
	p.i++ // opening quote
	var b []byte
	start := p.i
	for {
		if p.i >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.i]
		switch {
		case c == '"':
			b = appendValid(b, p.data[start:p.i])
			p.i++
			return string(b), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c != '\\':
			p.i++
			continue
		}
		b = appendValid(b, p.data[start:p.i])
		if p.i+1 >= len(p.data) {
			return "", p.errorf("unterminated escape")
		}
		e := p.data[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// A pair of escapes is one character; a lone one stays a surrogate.
				if r < 0xDC00 && p.i+1 < len(p.data) && p.data[p.i] == '\\' && p.data[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if r2, ok := p.hex4(); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
						b = utf8.AppendRune(b, utf16.DecodeRune(r, r2))
						break
					}
					p.i = save
				}
				b = append(b, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
				break
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", p.errorf("invalid escape")
		}
		start = p.i
	}
}

// appendValid appends raw string bytes, invalid UTF-8 decoded as JavaScript would.
func appendValid(b, raw []byte) []byte {
	if utf8.Valid(raw) {
		return append(b, raw...)
	}
	return append(b, ToValidUTF8(string(raw))...)
}

func (p *jsonText) hex4() (rune, bool) {
	if p.i+4 > len(p.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

// number re-prints a JSON number as JavaScript's Number#toString does.
func (p *jsonText) number(dst []byte) ([]byte, error) {
	start := p.i
	if p.i < len(p.data) && p.data[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	intStart := p.i
	nInt := digits()
	if nInt == 0 || (nInt > 1 && p.data[intStart] == '0') {
		return dst, p.errorf("invalid number")
	}
	isInt := true
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return dst, p.errorf("invalid number")
		}
		isInt = false
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return dst, p.errorf("invalid number")
		}
		isInt = false
	}
	tok := p.data[start:p.i]
	if isInt && nInt <= 15 {
		if string(tok) == "-0" {
			return append(dst, '0'), nil
		}
		return append(dst, tok...), nil // exact in a JavaScript number
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return dst, p.errorf("invalid number")
	}
	return AppendNumber(dst, f), nil
}

// Marshal is JSON.stringify for Go values encoding/json can encode (struct tags,
// Marshalers and field order as encoding/json uses them). It runs encoding/json
// without HTML escaping and only re-serialises the result when it differs from what
// JavaScript writes: U+2028/U+2029 escapes, invalid UTF-8, -0, integers beyond 15
// digits and integer-like object keys.
func Marshal(v any) ([]byte, error) {
	out, err := encodeJSON(v)
	if err != nil {
		return nil, err
	}
	fix, invalid := needsFixup(out)
	if !fix {
		return out, nil
	}
	if invalid {
		// encoding/json wrote one \ufffd per invalid byte; replace the invalid
		// sequences the way JavaScript decodes them and encode again.
		sv, err := sanitizeStrings(reflect.ValueOf(v), 0)
		if err != nil {
			return nil, err
		}
		if out, err = encodeJSON(sv.Interface()); err != nil {
			return nil, err
		}
	}
	return AppendJSON(nil, out)
}

// encodeBuffers are encodeJSON's scratch buffers: growing a fresh bytes.Buffer to the
// size of a sign-in response is half a dozen allocations per request; with a pooled
// one the result is a single copy of the right size.
var encodeBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps a rare huge document from pinning its buffer in the pool.
const maxPooledBuffer = 64 << 10

func encodeJSON(v any) ([]byte, error) {
	buf := encodeBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			encodeBuffers.Put(buf)
		}
	}()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// needsFixup scans encoding/json output for anything JSON.stringify writes
// differently; invalid reports \ufffd escapes (encoding/json's invalid UTF-8).
func needsFixup(b []byte) (fix, invalid bool) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			start := i + 1
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] != '\\' {
					i++
					continue
				}
				// An escape: \uXXXX or a two-character one (so "\\u2028" is text).
				if i+5 < len(b) && b[i+1] == 'u' {
					switch string(b[i+2 : i+6]) {
					case "2028", "2029":
						fix = true
					case "fffd":
						fix, invalid = true, true
					}
					i += 6
					continue
				}
				i += 2
			}
			if i+1 < len(b) && b[i+1] == ':' {
				if _, ok := isArrayIndexKey(string(b[start:i])); ok {
					fix = true
				}
			}
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			if c == '-' {
				j++
			}
			k := j
			for k < len(b) && b[k] >= '0' && b[k] <= '9' {
				k++
			}
			frac := k < len(b) && (b[k] == '.' || b[k] == 'e' || b[k] == 'E')
			if !frac && (k-j > 15 || string(b[i:k]) == "-0") {
				fix = true
			}
			for k < len(b) && b[k] != ',' && b[k] != ']' && b[k] != '}' {
				k++
			}
			i = k - 1
		}
	}
	return fix, invalid
}

// sanitizeStrings copies v with every string made valid UTF-8 as JavaScript would
// decode it (Marshalers are left as they are).
func sanitizeStrings(v reflect.Value, depth int) (reflect.Value, error) {
	if depth > maxJSONDepth {
		return v, errors.New("value nested too deeply")
	}
	if !v.IsValid() {
		return v, nil
	}
	t := v.Type()
	if t.Implements(marshalerType) || t.Implements(textMarshalerType) {
		return v, nil
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if utf8.ValidString(s) {
			return v, nil
		}
		out := reflect.New(t).Elem()
		out.SetString(ToValidUTF8(s))
		return out, nil
	case reflect.Pointer:
		if v.IsNil() {
			return v, nil
		}
		e, err := sanitizeStrings(v.Elem(), depth+1)
		if err != nil {
			return v, err
		}
		out := reflect.New(t.Elem())
		out.Elem().Set(e)
		return out, nil
	case reflect.Interface:
		if v.IsNil() {
			return v, nil
		}
		e, err := sanitizeStrings(v.Elem(), depth+1)
		if err != nil {
			return v, err
		}
		out := reflect.New(t).Elem()
		out.Set(e)
		return out, nil
	case reflect.Struct:
		out := reflect.New(t).Elem()
		out.Set(v)
		for i := 0; i < t.NumField(); i++ {
			if !t.Field(i).IsExported() {
				continue
			}
			f, err := sanitizeStrings(v.Field(i), depth+1)
			if err != nil {
				return v, err
			}
			out.Field(i).Set(f)
		}
		return out, nil
	case reflect.Slice, reflect.Array:
		var out reflect.Value
		if v.Kind() == reflect.Array {
			out = reflect.New(t).Elem()
		} else if v.IsNil() || t.Elem().Kind() == reflect.Uint8 {
			return v, nil // []byte is base64
		} else {
			out = reflect.MakeSlice(t, v.Len(), v.Len())
		}
		for i := 0; i < v.Len(); i++ {
			e, err := sanitizeStrings(v.Index(i), depth+1)
			if err != nil {
				return v, err
			}
			out.Index(i).Set(e)
		}
		return out, nil
	case reflect.Map:
		if v.IsNil() {
			return v, nil
		}
		out := reflect.MakeMapWithSize(t, v.Len())
		it := v.MapRange()
		for it.Next() {
			k, err := sanitizeStrings(it.Key(), depth+1)
			if err != nil {
				return v, err
			}
			e, err := sanitizeStrings(it.Value(), depth+1)
			if err != nil {
				return v, err
			}
			out.SetMapIndex(k, e)
		}
		return out, nil
	}
	return v, nil
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
)
