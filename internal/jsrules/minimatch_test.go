package jsrules

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

type minimatchVectors struct {
	Minimatch  string                     `json:"minimatch"`
	OptionSets map[string]json.RawMessage `json:"optionSets"`
	Escapes    []struct {
		In  string `json:"in"`
		Out string `json:"out"`
	} `json:"escapes"`
	Cases []struct {
		Opts    string   `json:"opts"`
		Pattern string   `json:"pattern"`
		Repeat  int      `json:"repeat"`
		Group   string   `json:"group"`
		Paths   []string `json:"paths"`
		Match   string   `json:"match"`
		Error   *struct {
			Class   string `json:"class"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"cases"`
}

// vectorOptions maps the generator's option sets to ours.
var vectorOptions = map[string]MinimatchOptions{
	"origin": {NoCase: true, NoGlobstar: true},
	"rules":  {NoCase: true, Dot: true},
	"files":  {WindowsPathsNoEscape: true, NoComment: true, NoNegate: true},
	"plain":  {},
	"dot":    {Dot: true},
}

func readVectors(t testing.TB, name string, v any) {
	t.Helper()
	dir := "testdata"
	if d := os.Getenv("JSRULES_VECTORS"); d != "" {
		dir = d // a larger local run: node testdata/gen-vectors.js --out DIR --scale 20
	}
	b, err := os.ReadFile(dir + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestMinimatchVectors checks every pattern and path Node's minimatch was asked
// about: the same answer, or (only for patterns Node accepts and we cannot match
// exactly) a compile-time refusal. Node's own errors must be errors here too.
func TestMinimatchVectors(t *testing.T) {
	var v minimatchVectors
	readVectors(t, "minimatch.json", &v)
	if v.Minimatch != "11.0.9" {
		t.Logf("vectors from minimatch %s", v.Minimatch)
	}
	refused, total, checked := 0, 0, 0
	refusedByGroup := map[string]int{}
	for _, c := range v.Cases {
		opts, ok := vectorOptions[c.Opts]
		if !ok {
			t.Fatalf("unknown option set %q", c.Opts)
		}
		pattern := c.Pattern
		if c.Repeat > 0 {
			pattern = strings.Repeat(pattern, c.Repeat)
		}
		short := pattern
		if len(short) > 80 {
			short = short[:80] + "..."
		}
		total++
		mm, err := CompileMinimatch(pattern, opts)
		if c.Error != nil {
			if err == nil {
				t.Errorf("%s %q: Node throws %s %q, we compiled it", c.Opts, short, c.Error.Class, c.Error.Message)
			}
			continue
		}
		if err != nil {
			var me *MinimatchError
			if !errors.As(err, &me) || !me.Unsupported {
				t.Errorf("%s %q: Node accepts it, we fail: %v", c.Opts, short, err)
				continue
			}
			refused++
			refusedByGroup[c.Group]++
			if c.Group != "random" && c.Group != "errors" && !strings.Contains(pattern, "[:") {
				t.Errorf("%s %q: refused: %v", c.Opts, short, err)
			}
			continue
		}
		for i, p := range c.Paths {
			want := c.Match[i]
			if want == 'E' {
				continue // Node throws while matching
			}
			checked++
			if got := mm.Match(p); got != (want == '1') {
				t.Errorf("%s %q .Match(%q) = %v, Node says %c", c.Opts, short, p, got, want)
			}
		}
	}
	t.Logf("%d patterns, %d refused (%v), %d matches checked", total, refused, refusedByGroup, checked)
	if refusedByGroup["random"]*20 > total {
		t.Errorf("too many random patterns refused: %d of %d", refusedByGroup["random"], total)
	}
}

func TestEscapeMinimatchVectors(t *testing.T) {
	var v minimatchVectors
	readVectors(t, "minimatch.json", &v)
	for _, c := range v.Escapes {
		got := EscapeMinimatch(c.In)
		if got != c.Out {
			t.Errorf("EscapeMinimatch(%q) = %q, Node %q", c.In, got, c.Out)
		}
		for _, opts := range vectorOptions {
			if opts.WindowsPathsNoEscape {
				continue
			}
			if mm, err := CompileMinimatch(got, opts); err != nil || !mm.Match(c.In) {
				t.Errorf("%q (%+v) does not match %q: %v", got, opts, c.In, err)
			}
		}
	}
}
