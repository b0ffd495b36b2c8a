package jsrules

import (
	"encoding/json"
	"testing"
)

func TestTypeOf(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{"x", "string"}, {json.Number("1"), "number"}, {float64(1), "number"}, {true, "boolean"},
		{nil, "null"}, {[]any{}, "array"}, {[]string{"a"}, "array"}, {map[string]any{}, "object"},
	} {
		if got := TypeOf(c.v); got != c.want {
			t.Errorf("TypeOf(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}
