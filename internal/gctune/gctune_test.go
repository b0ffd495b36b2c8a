package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, roots, headroom uint64
		want                  int
	}{
		{4 * mib, 0, 32 * mib, 800},
		{1 * mib, 0, 32 * mib, 3200},
		{1 * mib, 3 * mib, 32 * mib, 800}, // the goal counts stacks and globals too
		{32 * mib, 0, 32 * mib, 100},
		{500 * mib, 0, 32 * mib, 100}, // a big heap keeps Go's default: memory at most doubles
		{1 * mib, 100 * mib, 32 * mib, 100},
		{1, 0, 32 * mib, maxPercent},
		{10 << 10, 0, 32 * mib, maxPercent},
		{0, 0, 32 * mib, 100}, // not measured yet
	} {
		if got := Percent(tc.live, tc.roots, tc.headroom); got != tc.want {
			t.Errorf("Percent(%d, %d, %d) = %d, want %d", tc.live, tc.roots, tc.headroom, got, tc.want)
		}
	}
}

// TestPercentBoundsHeapGoal: Go's heap goal live + (live+roots)×GOGC/100 never
// exceeds live + max(live+roots, headroom).
func TestPercentBoundsHeapGoal(t *testing.T) {
	const headroom = 32 << 20
	for _, roots := range []uint64{0, 1 << 20, 4 << 20} {
		for live := uint64(1); live < 1<<32; live = live*3/2 + 1 {
			goal := live + (live+roots)*uint64(Percent(live, roots, headroom))/100
			if limit := live + max(live+roots, headroom); goal > limit {
				t.Fatalf("live %d, roots %d: heap goal %d > %d", live, roots, goal, limit)
			}
		}
	}
}

func TestStartRespectsGOGC(t *testing.T) {
	env := map[string]string{"GOGC": "50"}
	if tu := Start(func(k string) string { return env[k] }, 0); tu != nil {
		tu.Stop()
		t.Fatal("Start tuned although the operator set GOGC")
	}
}

// TestTunerFollowsLiveHeap: with a small live heap the tuner raises GOGC after a
// collection; once the live heap is past the headroom it goes back to 100, and Stop
// restores what was set before.
func TestTunerFollowsLiveHeap(t *testing.T) {
	prev := debug.SetGCPercent(77)
	defer debug.SetGCPercent(prev)
	const headroom = 64 << 20
	tu := Start(func(string) string { return "" }, headroom)
	waitFor(t, func() bool { runtime.GC(); return tu.GCPercent() > 100 })
	if got := debug.SetGCPercent(tu.GCPercent()); got != tu.GCPercent() {
		t.Fatalf("runtime GOGC = %d, tuner says %d", got, tu.GCPercent())
	}
	big := make([][]byte, 0, 96)
	for range 96 {
		big = append(big, make([]byte, 1<<20))
	}
	waitFor(t, func() bool { runtime.GC(); return tu.GCPercent() == 100 })
	runtime.KeepAlive(big)
	tu.Stop()
	if got := debug.SetGCPercent(77); got != 77 {
		t.Fatalf("after Stop GOGC = %d, want the 77 set before Start", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
