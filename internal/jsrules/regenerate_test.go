package jsrules

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var vectorFiles = []string{"json-stringify.json", "entityref.json", "lowercase.json", "minimatch.json", "frame-page.json"}

// TestVectorsRegenerate re-runs testdata/gen-vectors.js when node and the Backstage
// packages are installed, and requires the committed vectors to be exactly what it
// writes (so they can neither drift from Node nor be edited by hand).
func TestVectorsRegenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	out := t.TempDir()
	cmd := exec.Command(node, "testdata/gen-vectors.js", "--out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		if bytes.Contains(msg, []byte("no node_modules with")) {
			t.Skip("Backstage packages not installed (integration/node/install.sh)")
		}
		t.Fatalf("gen-vectors.js: %v\n%s", err, msg)
	}
	for _, name := range vectorFiles {
		want, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/%s differs from what gen-vectors.js writes now; run: (cd internal/jsrules/testdata && node gen-vectors.js)", name)
		}
	}
}
