// Package scale measures the cost curves of the README's performance section: how
// start-up, memory and per-request latency grow with the number of users (local and
// remote catalogs, user_info rows, signing keys of many replicas, distinct users
// signed in). scripts/scale.sh runs it with AUTHBACKEND_SCALE=full and prints the
// tables; without that variable the tests run at the smallest sizes, as CI does, and
// check the answers (a lookup finds its user, bounded caches stay bounded).
package scale
