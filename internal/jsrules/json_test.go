package jsrules

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"os/exec"
	"strings"
	"testing"
)

// jsStringifyCases pin JSON.stringify output (verified against Node by
// TestJSONStringifyMatchesNode when node is installed).
var jsStringifyCases = []struct {
	name string
	in   any
	want string
}{
	{"plain", "user:default/alice", `"user:default/alice"`},
	{"html is not escaped", "a<b>&c", `"a<b>&c"`},
	{"line and paragraph separators stay raw", "a\u2028b\u2029c", "\"a\u2028b\u2029c\""},
	{"non-ASCII stays raw", "jöhn 日本 😀", `"jöhn 日本 😀"`},
	{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
	{"short escapes", "\b\f\n\r\t", `"\b\f\n\r\t"`},
	{"other controls lower-case hex", "\x00\x01\x1f\x0b", `"\u0000\u0001\u001f\u000b"`},
	{"DEL is raw", "\x7f", "\"\x7f\""},
	{"slash is raw", "a/b", `"a/b"`},
	{"invalid UTF-8 becomes U+FFFD", "a\xffb", "\"a\uFFFDb\""},
	{"integer", float64(1795777608), `1795777608`},
	{"negative zero", math.Copysign(0, -1), `0`},
	{"fraction", 0.1, `0.1`},
	{"large", 1e21, `1e+21`},
	{"just below exponent form", 1e20, `100000000000000000000`},
	{"small", 1e-7, `1e-7`},
	{"small fraction", 0.000001, `0.000001`},
	{"negative exponent mantissa", -1.5e-10, `-1.5e-10`},
	{"NaN", math.NaN(), `null`},
	{"int", 42, `42`},
	{"bool", true, `true`},
	{"nil", nil, `null`},
	{"json.Number", json.Number("1e3"), `1000`},
	{"string slice", []string{"a", "<b>"}, `["a","<b>"]`},
	{"nested", map[string]any{"b": []any{1.5, "x", nil, map[string]any{}}, "a": false}, `{"a":false,"b":[1.5,"x",null,{}]}`},
	{"integer keys first ascending", map[string]any{"b": 1, "10": 2, "2": 3, "a": 4, "01": 5}, `{"2":3,"10":2,"01":5,"a":4,"b":1}`},
	{"struct via encoding/json", struct {
		X string `json:"x"`
	}{"<&>"}, `{"x":"<&>"}`},
}

func TestJSONStringify(t *testing.T) {
	for _, tc := range jsStringifyCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Stringify(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestJSONStringifyRejectsUnserialisable(t *testing.T) {
	if _, err := Stringify(map[string]any{"f": func() {}}); err == nil {
		t.Fatal("expected an error for a func value")
	}
}

// TestJSONStringifyMatchesNode feeds each case (as standard JSON) to node, which
// parses and re-serialises it with JSON.stringify, and compares with ours.
func TestJSONStringifyMatchesNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed; JSON.stringify cross-check skipped")
	}
	var inputs []string
	for _, tc := range jsStringifyCases {
		if f, ok := tc.in.(float64); ok && math.IsNaN(f) {
			continue // not representable in standard JSON
		}
		b, err := json.Marshal(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		inputs = append(inputs, string(b))
	}
	script := `const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
for (const l of lines) process.stdout.write(Buffer.from(JSON.stringify(JSON.parse(l))).toString("base64") + "\n");`
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = strings.NewReader(strings.Join(inputs, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	i := 0
	for _, tc := range jsStringifyCases {
		if f, ok := tc.in.(float64); ok && math.IsNaN(f) {
			continue
		}
		nodeOut := decodeB64Std(t, got[i])
		ours, err := Stringify(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(nodeOut, ours) {
			t.Errorf("%s: node %q, ours %q", tc.name, nodeOut, ours)
		}
		i++
	}
}

func decodeB64Std(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
