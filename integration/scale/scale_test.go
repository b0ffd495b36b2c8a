package scale

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// full reports whether the script asked for the full sizes (AUTHBACKEND_SCALE=full).
func full() bool { return os.Getenv("AUTHBACKEND_SCALE") == "full" }

// sizes picks the full sizes or the smallest one.
func sizes(all ...int) []int {
	if full() {
		return all
	}
	return all[:1]
}

// table prints a Markdown table on stdout (scripts/scale.sh keeps these lines).
func table(title string, header []string, rows [][]string) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n#### %s\n\n| %s |\n|", title, strings.Join(header, " | "))
	for range header {
		b.WriteString("---|")
	}
	b.WriteByte('\n')
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Print(b.String())
}

// latencies collects per-operation durations.
type latencies []time.Duration

func (l latencies) mean() time.Duration {
	if len(l) == 0 {
		return 0
	}
	var s time.Duration
	for _, d := range l {
		s += d
	}
	return s / time.Duration(len(l))
}

func (l latencies) p99() time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*99/100)]
}

// dur formats a duration for a table: µs below a millisecond, else ms.
func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// liveHeap is the heap still reachable after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// rss is the process's resident set (VmRSS), in bytes.
func rss() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib uint64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kib)
			return kib << 10
		}
	}
	return 0
}

func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// runtimeKeepAlive keeps v reachable up to the call (what a heap figure measured).
func runtimeKeepAlive(v any) { runtime.KeepAlive(v) }

// cpuTime is the CPU time this process has used (all threads, GC included): on a
// shared machine it says what an operation costs better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
