// Package gctune owns the process's garbage-collector pacing: a floor under the heap
// target so that a server with a small live heap and a high allocation rate (every
// /refresh allocates tens of kilobytes) does not collect dozens of times a second,
// each cycle a stop-the-world and a chance for the tail latency to jump.
package gctune
