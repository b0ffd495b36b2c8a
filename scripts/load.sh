#!/usr/bin/env bash
# Load figures for the README: start time to the first answered request, memory idle
# and under load, and wrk throughput for JWKS, /refresh (each mints a token) and
# /v1/userinfo against the real binary on loopback (SQLite, local catalog, mock
# Palette). Installs wrk from Debian's packages when missing.
#   scripts/load.sh [duration]   (default 10s per endpoint)
# Environment:
#   CONNS=32        wrk connections (2 threads)
#   ENDPOINTS="jwks refresh userinfo"   which endpoints to drive
#   GCTRACE=1       run the server with GODEBUG=gctrace=1 and summarise its GC cycles
#   PROFILE=1       build with -tags pprof and save a CPU profile of the refresh run
#                   (and the heap after it) in $PROFILE_DIR (default /tmp/authbackend-load-profile)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
DURATION="${1:-10s}"
CONNS="${CONNS:-32}"
ENDPOINTS="${ENDPOINTS:-jwks refresh userinfo}"
PROFILE_DIR="${PROFILE_DIR:-${TMPDIR:-/tmp}/authbackend-load-profile}"
tags=nomsgpack
[ "${PROFILE:-}" = 1 ] && tags=nomsgpack,pprof
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -tags "$tags" -trimpath -ldflags "-s -w" -o "$work/authbackend" ./cmd/authbackend
go build -o "$work/mockpalette" ./cmd/mockpalette

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
APP=$(port); IDP=$(port); PPROF=$(port)
"$work/mockpalette" --listen "127.0.0.1:$IDP" --tenant t1 --client-id backstage-client --client-secret backstage-secret 2>"$work/mock.log" &
cat > "$work/app-config.yaml" <<YAML
app: {baseUrl: "http://127.0.0.1:3000"}
backend:
  baseUrl: http://127.0.0.1:$APP
  listen: {host: 127.0.0.1, port: $APP}
  database: {client: better-sqlite3, connection: {directory: $work/data}}
auth:
  session: {secret: load-test-secret-load-test-secret-0000}
  providers:
    spectrocloud:
      development:
        clientId: backstage-client
        clientSecret: backstage-secret
        authorizationUrl: http://127.0.0.1:$IDP/v1/oidc/tenant/t1/auth
        signIn: {resolvers: [{resolver: emailMatchingUserEntityProfileEmail}]}
catalog:
  rules: [{allow: [User, Group]}]
  locations: [{type: file, target: $PWD/examples/demo/org.yaml}]
YAML
until curl -sf "http://127.0.0.1:$IDP/v1/oidc/tenant/t1/.well-known/openid-configuration" >/dev/null; do sleep 0.05; done

# Start time: from exec to the first answered request, polled in-process (spawning curl
# in a loop would measure curl).
[ "${GCTRACE:-}" = 1 ] && export GODEBUG=gctrace=1
[ "${PROFILE:-}" = 1 ] && export AUTHBACKEND_PPROF_LISTEN="127.0.0.1:$PPROF"
read -r pid start_ms < <(python3 - "$work/authbackend" "$work/app-config.yaml" "$APP" "$work/server.log" <<'PY'
import http.client, subprocess, sys, time
import os
binary, cfg, port, log = sys.argv[1:5]
t0 = time.perf_counter()
p = subprocess.Popen([binary, "--config", cfg, "--log-level", "warn"], stderr=open(log, "w"), start_new_session=True, env=os.environ)
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=1)
        c.request("GET", "/.backstage/health/v1/readiness")
        if c.getresponse().status == 200:
            break
    except OSError:
        time.sleep(0.0005)
print(p.pid, round((time.perf_counter() - t0) * 1000, 1))
PY
)
trap 'kill $pid $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

AUTH="http://127.0.0.1:$APP/api/auth"
curl -s -c "$work/jar" -b "$work/jar" -L -o "$work/frame.html" \
  "$AUTH/spectrocloud/start?scope=openid%20profile%20email&origin=http%3A%2F%2F127.0.0.1%3A3000&flow=popup&env=development"
TOKEN=$(python3 - "$work/frame.html" <<'PY'
import json, re, sys, urllib.parse
html = open(sys.argv[1]).read()
m = re.search(r"decodeURIComponent\('([^']*)'\)", html)
print(json.loads(urllib.parse.unquote(m.group(1)))["response"]["backstageIdentity"]["token"])
PY
)
COOKIE=$(awk '$6 == "spectrocloud-refresh-token" {print $7}' "$work/jar")
[ -n "$COOKIE" ] && [ -n "$TOKEN" ] || { echo "sign-in failed"; cat "$work/server.log"; exit 1; }
sleep 1
idle_kib=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

bench() { # name url [header...]
  local name=$1 url=$2; shift 2
  local args=()
  for h in "$@"; do args+=(-H "$h"); done
  case " $ENDPOINTS " in *" $name "*) ;; *) return 0 ;; esac
  wrk -t2 -c"$CONNS" -d5s "${args[@]}" "$url" >/dev/null # warm-up
  local gc0=0; [ "${GCTRACE:-}" = 1 ] && gc0=$(grep -c '^gc ' "$work/server.log" || true)
  local prof=""
  if [ "${PROFILE:-}" = 1 ] && [ "$name" = refresh ]; then
    mkdir -p "$PROFILE_DIR"
    curl -s -o "$PROFILE_DIR/refresh.cpu" "http://127.0.0.1:$PPROF/debug/pprof/profile?seconds=5" & prof=$!
  fi
  local out; out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency "${args[@]}" "$url")
  [ -n "$prof" ] && { wait "$prof"; curl -s -o "$PROFILE_DIR/heap.pb.gz" "http://127.0.0.1:$PPROF/debug/pprof/heap"; }
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$out"); non2xx=${non2xx:-0}
  printf '| %-10s | %10s | %8s | %8s | %s |\n' "$name" "$rps" "$p50" "$p99" "$non2xx"
  if [ "${GCTRACE:-}" = 1 ]; then
    # gctrace lines: "gc N @t s P%: a+b+c ms clock, ..." — cycles during the run and
    # the sum of their stop-the-world phases (a and c).
    tail -n +"$((gc0 + 1))" <(grep '^gc ' "$work/server.log") | awk -v n="$name" '
      { split($5, w, "+"); stw += w[1] + w[3]; c++; if (w[1] + w[3] > mx) mx = w[1] + w[3] }
      END { printf "  gc during %s: %d cycles, stop-the-world %.2f ms total, max %.3f ms\n", n, c, stw, mx }' >&2
  fi
}
echo "machine: $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "wrk -t2 -c$CONNS -d$DURATION"
echo "| endpoint   |      req/s |  p50     |  p99     | non-2xx |"
echo "|------------|------------|----------|----------|---------|"
bench jwks "$AUTH/.well-known/jwks.json"
bench refresh "$AUTH/spectrocloud/refresh?optional&scope=openid%20profile%20email&env=development" \
  "X-Requested-With: XMLHttpRequest" "Cookie: spectrocloud-refresh-token=$COOKIE"
bench userinfo "$AUTH/v1/userinfo" "Authorization: Bearer $TOKEN"
peak_kib=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo
echo "start to first answered request: ${start_ms} ms"
echo "memory (RSS): idle $((idle_kib / 1024)) MiB, peak under load $((peak_kib / 1024)) MiB"
