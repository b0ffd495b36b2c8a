#!/usr/bin/env bash
# Cost curves for the README's performance section (integration/scale): local and
# remote catalog, user_info and signing_keys on PostgreSQL, memory after many distinct
# users. Prints Markdown tables.
#   scripts/scale.sh [full|quick]   (default full; quick = the smallest sizes, as CI runs them)
# PostgreSQL: AUTHBACKEND_TEST_PG_DSN (default postgres://postgres@127.0.0.1:5432/postgres);
# each curve creates a database of its own and drops it; the server is never restarted.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
mode="${1:-full}"
export AUTHBACKEND_TEST_PG_DSN="${AUTHBACKEND_TEST_PG_DSN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
[ "$mode" = full ] && export AUTHBACKEND_SCALE=full
echo "machine: $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
out="$work/out"
# The replicas curve runs the real binary (as scripts/load.sh builds it).
CGO_ENABLED=0 go build -tags nomsgpack -trimpath -o "$work/authbackend" ./cmd/authbackend
export AUTHBACKEND_BIN="$work/authbackend"
if ! go test ./integration/scale -run 'Curve' -count=1 -v -timeout 20m >"$out" 2>&1; then
  cat "$out"; exit 1
fi
grep -E '^(\||####|$)' "$out" | cat -s
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
