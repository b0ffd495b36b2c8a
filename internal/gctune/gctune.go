package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultHeadroom is how far the heap may grow past the live heap before a
// collection when the live heap is small: 32 MiB costs at most that much resident
// memory and cuts the collections of a refresh-heavy load about tenfold.
const DefaultHeadroom = 32 << 20

// maxPercent bounds GOGC however small the live heap is (a near-empty heap right at
// start-up would otherwise ask for an absurd percentage).
const maxPercent = 10000

// Percent is the GOGC that lets the heap grow by max(live, headroom) before the next
// collection: Go's default (100) once the live heap is larger than headroom, more
// below, so memory stays within live + max(live, headroom). roots is the GC's other
// scan work (goroutine stacks and globals): since Go 1.18 the heap goal is
// live + (live + roots) × GOGC/100, and with a small heap the roots (a few MiB of
// globals in this binary) would otherwise multiply the headroom.
func Percent(live, roots, headroom uint64) int {
	if live == 0 {
		// No collection has measured the live heap yet: Go's default until one has
		// (at start-up a huge percentage would let the first cycle wait for 100×
		// whatever the heap holds then).
		return 100
	}
	if live >= headroom {
		return 100
	}
	return int(max(min(headroom*100/(live+roots), maxPercent), 100))
}

// Tuner re-computes GOGC after every collection from the live heap it left.
type Tuner struct {
	headroom uint64
	mu       sync.Mutex
	stopped  bool
	percent  int
	old      int
	sample   []metrics.Sample
}

// Start installs a Tuner with the given headroom (0: DefaultHeadroom) unless the
// operator chose the pacing: with GOGC in the environment (getenv("GOGC") != "") it
// does nothing and returns nil. GOMEMLIMIT, when set, still caps the heap.
func Start(getenv func(string) string, headroom uint64) *Tuner {
	if getenv("GOGC") != "" {
		return nil
	}
	if headroom == 0 {
		headroom = DefaultHeadroom
	}
	t := &Tuner{headroom: headroom, sample: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}}
	t.old = debug.SetGCPercent(100)
	t.percent = 100
	t.tune()
	t.arm()
	return t
}

// arm registers a cleanup on a fresh object: it becomes unreachable at once, so the
// cleanup runs after the next collection, tunes, and arms again.
func (t *Tuner) arm() {
	p := new([16]byte) // not tiny-allocated: a tiny block could be kept alive by a neighbour
	runtime.AddCleanup(p, func(t *Tuner) {
		if t.tune() {
			t.arm()
		}
	}, t)
}

// tune applies Percent to the current live heap; false once stopped.
func (t *Tuner) tune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	var v [3]uint64
	for i, s := range t.sample {
		if s.Value.Kind() != metrics.KindUint64 {
			return false // a runtime without these metrics: leave GOGC alone
		}
		v[i] = s.Value.Uint64()
	}
	p := Percent(v[0], v[1]+v[2], t.headroom)
	// Only a change of more than a tenth is worth telling the pacer.
	if d := p - t.percent; d*10 > t.percent || -d*10 > t.percent {
		debug.SetGCPercent(p)
		t.percent = p
	}
	return true
}

// GCPercent is the GOGC the tuner last set.
func (t *Tuner) GCPercent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.percent
}

// Stop ends the tuning and restores the GOGC in force before Start. Nil-safe.
func (t *Tuner) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(t.old)
	}
}
