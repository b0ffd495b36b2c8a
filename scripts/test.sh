#!/usr/bin/env bash
# The project's test command (README, .ci/run): formatting, vet, every Go test with the
# race detector, a short run of each fuzz target, and the static-build check of the
# Dockerfile's binary (helm is installed for the chart test when missing). PostgreSQL
# tests run when AUTHBACKEND_TEST_PG_DSN is set (they skip with a reason otherwise, and
# fail when CI is set). With AUTHBACKEND_E2E=1 the
# end-to-end tests against real Backstage npm packages, Chromium and nginx run too;
# their dependencies are installed first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') $(git ls-files --others --exclude-standard '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "not gofmt-ed:"; echo "$unformatted"; exit 1; fi

step "go vet"
go vet ./...

if [ "${AUTHBACKEND_E2E:-}" = "1" ]; then
  step "end-to-end dependencies (npm packages, Chromium, nginx)"
  bash integration/node/install.sh
fi

# The Helm chart test renders deploy/helm with the real helm; Debian has none, so it is
# built from its Go module (once; a few minutes) when the machine lacks it.
if ! command -v helm >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/helm" ]; then
  step "helm (for the chart test)"
  go install helm.sh/helm/v4/cmd/helm@v4.3.2
fi

step "go test -race"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
go test -race -count=1 -timeout 30m -v ./... >"$log" 2>&1
status=$?
set -e
# Package results and failures on the console; the full -v log only when something failed.
grep -E '^(ok|FAIL|panic:)|^--- FAIL|^\s+--- FAIL' "$log" || true
passed=$(grep -cE '^\s*--- PASS' "$log" || true)
failed=$(grep -cE '^\s*--- FAIL' "$log" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$log" || true)
if [ "$status" -ne 0 ]; then
  echo; echo "== failing output"; grep -vE '^\s*--- (PASS|SKIP)|^=== (RUN|PAUSE|CONT|NAME)' "$log" | tail -n 400
  echo "go test: $passed passed, $failed failed, $skipped skipped"
  exit "$status"
fi

# Counted, not timed: a duration-based -fuzztime can fail with a bare "context deadline
# exceeded" and no crasher in Go 1.26 (golang/go#75804, fixed in 1.27).
step "fuzz targets (${FUZZTIME:=20000x} each)"
fuzz() { # package target
  go test -run='^$' -fuzz="^$2\$" -fuzztime="$FUZZTIME" "$1"
}
targets=$(for f in $(git ls-files '*_test.go'); do
  { grep -oE '^func Fuzz[A-Za-z0-9_]+' "$f" || true; } | sed "s|^func |./$(dirname "$f") |"
done | sort -u)
while read -r pkg target; do
  [ -n "$pkg" ] && fuzz "$pkg" "$target"
done <<< "$targets"

step "static build (same flags as the Dockerfile)"
mkdir -p bin
CGO_ENABLED=0 go build -tags nomsgpack -trimpath -ldflags "-s -w" -o bin/authbackend ./cmd/authbackend
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/mockpalette ./cmd/mockpalette
if readelf -l bin/authbackend | grep -q 'INTERP'; then
  echo "bin/authbackend is dynamically linked"; exit 1
fi
echo "bin/authbackend is static ($(du -h bin/authbackend | cut -f1))"
echo
echo "go test: $passed passed, $failed failed, $skipped skipped"
