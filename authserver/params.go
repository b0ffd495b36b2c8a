package authserver

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
	"github.com/spectrocloud-labs/backstage-auth-go/internal/jsrules"
)

// maxBodyBytes is Express's body-parser default limit (100 kb).
const maxBodyBytes = 100 * 1024

// params are request values as Express sees them: strings, or []string for repeated
// query/form keys, or any JSON value for JSON bodies.
type params map[string]any

// queryParams reads the query string (repeated keys become arrays, as in qs).
func queryParams(r *http.Request) params {
	return formParams(r.URL.RawQuery)
}

func formParams(raw string) params {
	p := params{}
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, v = formDecode(k), formDecode(v)
		switch old := p[k].(type) {
		case nil:
			p[k] = v
		case string:
			p[k] = []string{old, v}
		case []string:
			p[k] = append(old, v)
		}
	}
	return p
}

// formDecode is querystring's unescape: '+' is a space and malformed escapes stay.
func formDecode(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if out, err := url.PathUnescape(s); err == nil {
		return out
	}
	return s
}

// bodyParams reads a form-urlencoded or JSON body (others are empty, as in Express).
func bodyParams(r *http.Request) (params, error) {
	if r.Body == nil {
		return params{}, nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return params{}, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, backstageerr.Input("request body could not be read")
	}
	if len(data) > maxBodyBytes {
		return nil, &backstageerr.Error{Name: backstageerr.NamePayloadTooLarge, Message: "request entity too large"}
	}
	if mt == "application/x-www-form-urlencoded" {
		return formParams(string(data)), nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return params{}, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, backstageerr.New(backstageerr.NameSyntax, "Unexpected token in JSON")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		// express.json (strict) accepts only objects and arrays; an array has no fields.
		return params{}, nil
	}
	return params(obj), nil
}

// field is one zod schema entry: a string, required (min(1)) or optional, possibly a
// URL.
type field struct {
	name     string
	required bool
	url      bool
}

// validate checks p like the zod schema of the route does and returns the values, or
// invalid_request with fromZodError's message ("Validation error: a; b").
func validate(p params, fields ...field) (map[string]string, error) {
	out := make(map[string]string, len(fields))
	var issues []string
	for _, f := range fields {
		v, present := p[f.name]
		if !present {
			if f.required {
				issues = append(issues, `Invalid input: expected string, received undefined at "`+f.name+`"`)
			}
			continue
		}
		if v == nil {
			issues = append(issues, `Invalid input: expected string, received null at "`+f.name+`"`)
			continue
		}
		s, ok := v.(string)
		if !ok {
			issues = append(issues, `Invalid input: expected string, received `+jsrules.TypeOf(v)+` at "`+f.name+`"`)
			continue
		}
		if f.required && s == "" {
			issues = append(issues, `Too small: expected string to have >=1 characters at "`+f.name+`"`)
			continue
		}
		if f.url {
			if _, ok := parseAbsolute(s); !ok {
				issues = append(issues, `Invalid URL at "`+f.name+`"`)
				continue
			}
		}
		out[f.name] = s
	}
	if len(issues) > 0 {
		return nil, oerr("invalid_request", http.StatusBadRequest, "Validation error: "+strings.Join(issues, "; "))
	}
	return out, nil
}

// formEncode is URLSearchParams' serialisation of one name or value.
func formEncode(s string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// kv is one ordered query parameter.
type kv struct{ k, v string }

func encodePairs(pairs []kv) string {
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = formEncode(p.k) + "=" + formEncode(p.v)
	}
	return strings.Join(parts, "&")
}

// withQuery returns uri with its query replaced (replace) or extended by pairs, as
// `url.search = params` and `url.searchParams.append` do (the existing query is
// re-serialised by URLSearchParams in the latter case).
func withQuery(uri string, replace bool, pairs ...kv) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", err
	}
	var all []kv
	if !replace && u.RawQuery != "" {
		for _, part := range strings.Split(u.RawQuery, "&") {
			if part == "" {
				continue
			}
			k, v, _ := strings.Cut(part, "=")
			all = append(all, kv{formDecode(k), formDecode(v)})
		}
	}
	all = append(all, pairs...)
	u.RawQuery = encodePairs(all)
	u.ForceQuery = false
	return u.String(), nil
}

// pathUnescape is url.PathUnescape (strict about malformed escapes).
func pathUnescape(s string) (string, error) { return url.PathUnescape(s) }
