package jsrules

import "encoding/json"

// TypeOf is the type name zod reports for a decoded JSON (or form) value in its
// "expected string, received <type>" issues: typeof, with arrays and null named.
func TypeOf(v any) string {
	switch v.(type) {
	case []string, []any:
		return "array"
	case map[string]any:
		return "object"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case nil:
		return "null"
	}
	return "string"
}
