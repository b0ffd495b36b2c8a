package jsrules

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
)

type jsonVectors struct {
	Strings []struct {
		In  string `json:"in"`
		Out string `json:"out"`
	} `json:"strings"`
	Numbers []struct {
		Bits string `json:"bits"`
		Out  string `json:"out"`
	} `json:"numbers"`
	Objects []struct {
		Keys      []string `json:"keys"`
		Out       string   `json:"out"`
		SortedOut string   `json:"sortedOut"`
	} `json:"objects"`
	Texts []struct {
		In  string `json:"in"`
		Out string `json:"out"`
	} `json:"texts"`
}

func b64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func float64From(t *testing.T, bits string) float64 {
	t.Helper()
	b, err := hex.DecodeString(bits)
	if err != nil || len(b) != 8 {
		t.Fatalf("bits %q", bits)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b))
}

// TestStringifyVectors: AppendString, AppendNumber, key order and JSON text round
// trips against what Node's JSON.stringify wrote.
func TestStringifyVectors(t *testing.T) {
	var v jsonVectors
	readVectors(t, "json-stringify.json", &v)
	for _, c := range v.Strings {
		in, want := b64(t, c.In), b64(t, c.Out)
		if got := QuoteString(in); got != want {
			t.Errorf("QuoteString(%q) = %q, Node %q", in, got, want)
		}
	}
	for _, c := range v.Numbers {
		f := float64From(t, c.Bits)
		if got := string(AppendNumber(nil, f)); got != c.Out {
			t.Errorf("AppendNumber(%v, bits %s) = %s, Node %s", f, c.Bits, got, c.Out)
		}
	}
	for _, c := range v.Objects {
		// The members as JSON text in insertion order, and as a Go map.
		var b strings.Builder
		m := map[string]any{}
		b.WriteByte('{')
		for i, k := range c.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(QuoteString(k) + ":" + strconv.Itoa(i))
			m[k] = i
		}
		b.WriteByte('}')
		got, err := AppendJSON(nil, []byte(b.String()))
		if err != nil || string(got) != c.Out {
			t.Errorf("AppendJSON(%s) = %s, %v; Node %s", b.String(), got, err, c.Out)
		}
		if got, _ := Stringify(m); string(got) != c.SortedOut {
			t.Errorf("Stringify(map %v) = %s; Node (sorted insertion) %s", c.Keys, got, c.SortedOut)
		}
		if got, _ := Marshal(m); string(got) != c.SortedOut {
			t.Errorf("Marshal(map %v) = %s; Node (sorted insertion) %s", c.Keys, got, c.SortedOut)
		}
		keys := append([]string(nil), c.Keys...)
		SortKeys(keys)
		var order []string
		dec := json.NewDecoder(strings.NewReader(c.SortedOut))
		dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			order = append(order, k.(string))
			dec.Token()
		}
		if strings.Join(keys, "\x00") != strings.Join(order, "\x00") {
			t.Errorf("SortKeys(%q) = %q, Node's order %q", c.Keys, keys, order)
		}
	}
	for _, c := range v.Texts {
		got, err := AppendJSON(nil, []byte(c.In))
		if err != nil || string(got) != c.Out {
			t.Errorf("AppendJSON(%s) = %q, %v; Node %q", c.In, got, err, c.Out)
		}
	}
}

// TestMarshalVectors: Marshal of struct values (the shape of every response we
// send) equals JSON.stringify, for every string and number vector.
func TestMarshalVectors(t *testing.T) {
	var v jsonVectors
	readVectors(t, "json-stringify.json", &v)
	type inner struct {
		S string   `json:"s"`
		L []string `json:"l,omitempty"`
	}
	type outer struct {
		Name  string `json:"name"`
		Inner *inner `json:"inner,omitempty"`
		N     any    `json:"n,omitempty"`
	}
	for _, c := range v.Strings {
		in, want := b64(t, c.In), b64(t, c.Out)
		got, err := Marshal(outer{Name: in, Inner: &inner{S: in, L: []string{in, "x"}}})
		exp := `{"name":` + want + `,"inner":{"s":` + want + `,"l":[` + want + `,"x"]}}`
		if err != nil || string(got) != exp {
			t.Errorf("Marshal with %q = %q, %v; want %q", in, got, err, exp)
		}
	}
	for _, c := range v.Numbers {
		f := float64From(t, c.Bits)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			if _, err := Marshal(outer{N: f}); err == nil {
				t.Errorf("Marshal(%v) succeeded", f)
			}
			continue
		}
		got, err := Marshal(outer{Name: "x", N: f})
		exp := `{"name":"x","n":` + c.Out + `}`
		if err != nil || string(got) != exp {
			t.Errorf("Marshal(%v) = %s, %v; want %s", f, got, err, exp)
		}
	}
}

func TestMarshalFastPathUnchanged(t *testing.T) {
	// Nothing to fix: Marshal returns encoding/json's bytes (no second pass).
	type s struct {
		A string `json:"a"`
		B int64  `json:"b"`
	}
	got, err := Marshal(s{A: `<a href="x">&amp;</a> \u2028 日本`, B: 1795777608})
	if err != nil || string(got) != `{"a":"<a href=\"x\">&amp;</a> \\u2028 日本","b":1795777608}` {
		t.Fatalf("got %s, %v", got, err)
	}
	if fix, _ := needsFixup(got); fix {
		t.Fatal("needsFixup on an escaped backslash followed by u2028")
	}
}

func TestAppendJSONRejectsInvalid(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a"}`, `[1,]`, `01`, `1.`, `"\x01"`, `"\u12"`, `tru`, `{"a":1}x`, `-`, `"\q"`, strings.Repeat("[", 1002) + strings.Repeat("]", 1002)} {
		if out, err := AppendJSON(nil, []byte(in)); err == nil {
			t.Errorf("AppendJSON(%q) = %q, want error", in, out)
		}
	}
}

func TestStringifyGoValues(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{int64(42), `42`}, {true, `true`}, {nil, `null`}, {json.Number("1e3"), `1000`},
		{[]string{"a", "<b>"}, `["a","<b>"]`},
		{map[string]any{"b": []any{1.5, "x", nil, map[string]any{}}, "a": false}, `{"a":false,"b":[1.5,"x",null,{}]}`},
		{json.RawMessage(`{"z":1,"a":{"2":0,"1":0}}`), `{"z":1,"a":{"1":0,"2":0}}`},
		// Structs keep their field order, as a JavaScript object keeps insertion order.
		{struct {
			Z string `json:"z"`
			A string `json:"a"`
		}{"<&>", "\u2028"}, "{\"z\":\"<&>\",\"a\":\"\u2028\"}"},
		{(*struct{})(nil), `null`},
	} {
		got, err := Stringify(tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("Stringify(%#v) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := Stringify(map[string]any{"f": func() {}}); err == nil {
		t.Fatal("expected an error for a func value")
	}
}

func TestSortKeysIntegerFirst(t *testing.T) {
	keys := []string{"b", "10", "2", "a", "01", "4294967295", "4294967294"}
	SortKeys(keys)
	if got := strings.Join(keys, ","); got != "2,10,4294967294,01,4294967295,a,b" {
		t.Fatal(got)
	}
	if !sort.SliceIsSorted(keys[3:], func(i, j int) bool { return keys[3+i] < keys[3+j] }) {
		t.Fatal("non-integer keys not sorted")
	}
}

type benchIdentity struct {
	Type                string   `json:"type"`
	UserEntityRef       string   `json:"userEntityRef"`
	OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
}

type benchResponse struct {
	Token    string        `json:"token"`
	Identity benchIdentity `json:"identity"`
	Expires  int64         `json:"expiresInSeconds"`
}

var benchValue = benchResponse{"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyOmRlZmF1bHQvYWxpY2UifQ.c2ln", benchIdentity{"user", "user:default/alice", []string{"user:default/alice", "group:default/team-a"}}, 3600}

// BenchmarkMarshalStruct is Marshal on a refresh-shaped value; compare with
// BenchmarkMarshalStructEncodingJSON (what authbackend used before: encoding/json
// without HTML escaping, no fix-up scan).
func BenchmarkMarshalStruct(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(benchValue); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalStructEncodingJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeJSON(benchValue); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMarshalInvalidUTF8Everywhere(t *testing.T) {
	type named string
	v := struct {
		Arr [2]string         `json:"arr"`
		Map map[string]named  `json:"map"`
		Any any               `json:"any"`
		Ptr *string           `json:"ptr"`
		Raw json.RawMessage   `json:"raw"`
		Bs  []byte            `json:"bs"`
		Sub []map[string]bool `json:"sub"`
	}{Arr: [2]string{"a\xe2\x80", "\xff\xff"}, Map: map[string]named{"k\xf0\x9f": "v\xc3"}, Any: []any{"\xed\xa0\x80"}, Raw: json.RawMessage(`"\u2028"`), Bs: []byte{0xff}, Sub: []map[string]bool{{"\xe0\x80": true}}}
	p := "\xf4\x90\x80\x80"
	v.Ptr = &p
	got, err := Marshal(v)
	want := "{\"arr\":[\"a\uFFFD\",\"\uFFFD\uFFFD\"],\"map\":{\"k\uFFFD\":\"v\uFFFD\"},\"any\":[\"\uFFFD\uFFFD\uFFFD\"],\"ptr\":\"\uFFFD\uFFFD\uFFFD\uFFFD\",\"raw\":\"\u2028\",\"bs\":\"/w==\",\"sub\":[{\"\uFFFD\uFFFD\":true}]}"
	if err != nil || string(got) != want {
		t.Fatalf("got  %q, %v\nwant %q", got, err, want)
	}
}
