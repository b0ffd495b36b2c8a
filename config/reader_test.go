package config

import (
	"math"
	"testing"
)

func TestReaderInt(t *testing.T) {
	r := FromMap(map[string]any{
		"i": 5, "s": " 7 ", "f": 3.0, "frac": 1.5, "big": uint64(math.MaxUint64), "huge": 1e300, "bool": true,
	})
	tests := []struct {
		key  string
		want int
		bad  bool
	}{
		{"i", 5, false}, {"s", 7, false}, {"f", 3, false}, {"absent", 9, false},
		{"frac", 9, true}, {"big", 9, true}, {"huge", 9, true}, {"bool", 9, true},
	}
	for _, tt := range tests {
		before := len(r.Problems())
		if got := r.Int(tt.key, 9); got != tt.want {
			t.Errorf("Int(%s) = %d, want %d", tt.key, got, tt.want)
		}
		if gotBad := len(r.Problems()) > before; gotBad != tt.bad {
			t.Errorf("Int(%s) recorded a problem = %v, want %v", tt.key, gotBad, tt.bad)
		}
	}
}

func TestZeroReaderProblems(t *testing.T) {
	var r Reader
	if r.Problems() != nil || r.Err() != nil {
		t.Fatal("zero Reader should have no problems")
	}
}
