package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// UnknownKeys says what Decode does with keys no field names.
type UnknownKeys int

const (
	// UnknownKeysWarn reports them as warnings: Backstage's schema lets other plugins
	// and newer versions add keys to most sections.
	UnknownKeysWarn UnknownKeys = iota
	// UnknownKeysError reports them as errors, for sections where a misspelled key
	// would silently switch a check off (sign-in resolver options).
	UnknownKeysError
	// UnknownKeysIgnore does not report them.
	UnknownKeysIgnore
)

// DecodeOptions adjust Decode.
type DecodeOptions struct {
	Unknown UnknownKeys
	// Known are keys of the section that something else reads (for example the
	// framework's callbackUrl and signIn in a provider section): never unknown.
	Known []string
}

// ValueDecoder is implemented (on the pointer) by field types that decode themselves,
// such as StringOrList. DecodeConfig reads r.Raw(key) and records problems through r.
type ValueDecoder interface {
	DecodeConfig(r *Reader, key string)
}

var (
	valueDecoderType = reflect.TypeOf((*ValueDecoder)(nil)).Elem()
	sectionType      = reflect.TypeOf(Section{})
	durationType     = reflect.TypeOf(time.Duration(0))
)

// Decode fills the struct dst points to from sec, field by field, by `config:"<key>"`
// tags (`config:"<key>,required"` for required keys; untagged embedded structs are
// decoded inline). Fields keep their value when the key is absent, so set defaults
// before decoding. Supported field types: string, bool, int, time.Duration (Backstage
// durations), []string, map[string]string, Section (the raw sub-section), any (the raw
// value), nested structs and lists of structs, pointers to any of these (nil when the
// key is absent or its value is invalid) and ValueDecoder implementations. It returns every problem: values of
// the wrong type, missing required keys and, per opts, unknown keys.
func Decode(sec Section, dst any, opts DecodeOptions) Problems {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("config.Decode: dst must be a pointer to a struct, got %T", dst))
	}
	r := sec.Reader()
	decodeStruct(r, v.Elem(), opts)
	return r.Problems()
}

// FieldKeys returns the config keys the struct type of dst decodes, for callers that
// list known keys.
func FieldKeys(dst any) []string {
	var keys []string
	walkFields(reflect.TypeOf(dst).Elem(), func(f reflect.StructField, key string, _ bool) { keys = append(keys, key) })
	return keys
}

// walkFields calls fn for every tagged field of t, descending into untagged embedded
// structs.
func walkFields(t reflect.Type, fn func(f reflect.StructField, key string, required bool)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, tagged := f.Tag.Lookup("config")
		if !tagged {
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walkFields(f.Type, func(sf reflect.StructField, key string, req bool) {
					sf.Index = append([]int{i}, sf.Index...)
					fn(sf, key, req)
				})
			}
			continue
		}
		name, rest, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		fn(f, name, rest == "required")
	}
}

func decodeStruct(r *Reader, v reflect.Value, opts DecodeOptions) {
	known := make(map[string]bool)
	for _, k := range opts.Known {
		known[k] = true
	}
	walkFields(v.Type(), func(f reflect.StructField, key string, required bool) {
		known[key] = true
		fv := v.FieldByIndex(f.Index)
		if !r.Has(key) {
			if required {
				r.Problemf(key, "missing required config value")
			}
			return
		}
		decodeValue(r, key, fv, required, opts)
	})
	if opts.Unknown == UnknownKeysIgnore {
		return
	}
	for _, k := range r.Keys() {
		if known[k] {
			continue
		}
		if opts.Unknown == UnknownKeysError {
			r.Problemf(k, "unknown key")
		} else {
			r.Warnf(k, "unknown key (ignored)")
		}
	}
}

// decodeValue decodes the present key into fv.
func decodeValue(r *Reader, key string, fv reflect.Value, required bool, opts DecodeOptions) {
	if fv.CanAddr() && fv.Addr().Type().Implements(valueDecoderType) {
		fv.Addr().Interface().(ValueDecoder).DecodeConfig(r, key)
		return
	}
	t := fv.Type()
	switch {
	case t == sectionType:
		fv.Set(reflect.ValueOf(r.Sub(key).Section))
		return
	case t == durationType:
		if d, ok := r.Duration(key); ok {
			fv.SetInt(int64(d))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		// Decoded through a reader of its own, so the pointer is set only when the value
		// decoded without a problem.
		elem := reflect.New(t.Elem())
		own := r.Section.Reader()
		decodeValue(own, key, elem.Elem(), required, opts)
		ps := own.Problems()
		r.Add(ps...)
		if len(ps.Errors()) == 0 {
			fv.Set(elem)
		}
	case reflect.String:
		if required {
			fv.SetString(r.RequiredString(key))
		} else {
			fv.SetString(r.String(key))
		}
	case reflect.Bool:
		fv.SetBool(r.Bool(key, fv.Bool()))
	case reflect.Int:
		fv.SetInt(int64(r.Int(key, int(fv.Int()))))
	case reflect.Interface:
		fv.Set(reflect.ValueOf(r.Raw(key)))
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.String:
			fv.Set(reflect.ValueOf(r.StringList(key)).Convert(t))
		case reflect.Struct:
			items := r.List(key)
			out := reflect.MakeSlice(t, len(items), len(items))
			for i, it := range items {
				decodeStruct(it, out.Index(i), opts)
			}
			fv.Set(out)
		default:
			panic(fmt.Sprintf("config.Decode: unsupported slice type %s", t))
		}
	case reflect.Map:
		if t.Key().Kind() != reflect.String || t.Elem().Kind() != reflect.String {
			panic(fmt.Sprintf("config.Decode: unsupported map type %s", t))
		}
		if m := r.StringMap(key); m != nil {
			fv.Set(reflect.ValueOf(m).Convert(t))
		}
	case reflect.Struct:
		decodeStruct(r.Sub(key), fv, opts)
	default:
		panic(fmt.Sprintf("config.Decode: unsupported field type %s", t))
	}
}

// StringOrList is a list that config may also give as one string split on whitespace,
// commas and pipes (Backstage's additionalScopes rule).
type StringOrList []string

// DecodeConfig implements ValueDecoder.
func (s *StringOrList) DecodeConfig(r *Reader, key string) { *s = r.StringOrList(key) }
