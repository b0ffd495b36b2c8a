#!/usr/bin/env bash
# Installs what the end-to-end tests in ../e2e need, idempotently:
#   * Debian's chromium, nginx and iproute2 (`ip netns`, for ../vendornet; apt-get update
#     only when an install fails without it);
#   * the pinned npm packages of package-lock.json, installed with `npm ci` into a cache
#     directory keyed by the hash of the lockfile (and the Node version, because
#     better-sqlite3 is a native module), then symlinked as ./node_modules.
# A warm run (everything present) takes about a second. Prints what it did.
#
# Env:
#   AUTHBACKEND_E2E_CACHE  cache root (default /var/cache/authbackend-e2e)
#   AUTHBACKEND_E2E_NO_APT set to 1 to skip the apt step (e.g. on a machine without root)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${AUTHBACKEND_E2E_CACHE:-/var/cache/authbackend-e2e}"
t0=$(date +%s)

say() { printf 'install.sh: %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------
apt_install() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v ip >/dev/null || missing+=(iproute2)
  # Node.js 20 (with its headers, for better-sqlite3) and a C++ toolchain are on the
  # machine image; install them only if absent.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  if [ ${#missing[@]} -eq 0 ]; then
    say "apt: chromium, nginx, iproute2, node and a C++ toolchain already installed"
    return
  fi
  if [ "${AUTHBACKEND_E2E_NO_APT:-}" = 1 ]; then
    say "apt: missing ${missing[*]} but AUTHBACKEND_E2E_NO_APT=1" >&2
    exit 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  say "apt: installing ${missing[*]}"
  if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/authbackend-e2e-apt.log 2>&1; then
    say "apt: install failed without a fresh package list; running apt-get update"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  # Debian's nginx package starts a system nginx on port 80; the tests run their own
  # instance on loopback with a temp prefix, so the system one is not needed.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    $sudo systemctl stop nginx || true
  fi
  say "apt: installed ${missing[*]}"
}
apt_install

# --- npm packages ----------------------------------------------------------------
command -v node >/dev/null || { say "node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { say "npm is not installed" >&2; exit 1; }

key="$(cat "$here/package.json" "$here/package-lock.json" "$here/.npmrc" <(node --version; uname -m) | sha256sum | cut -c1-16)"
dest="$cache_root/$key"
mkdir -p "$cache_root"

exec 9>"$cache_root/.lock"
flock 9 # one installer at a time per cache

if [ -f "$dest/.complete" ]; then
  say "npm: cache hit $dest"
  touch "$dest/.complete" # most recently used, for the pruning below
else
  say "npm: cache miss, npm ci into $dest"
  tmp="$cache_root/.tmp-$key-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp "$here/package.json" "$here/package-lock.json" "$here/.npmrc" "$tmp/"
  (
    cd "$tmp"
    # No browser download (Chromium is Debian's), no prebuilt native binaries (the
    # registry is the only network here): better-sqlite3 compiles against /usr's headers.
    # keytar (an optional dependency of @backstage/cli-module-auth) fails to build
    # without libsecret's headers and is skipped; the CLI then keeps its tokens in files
    # under $XDG_DATA_HOME, which is what the tests want.
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    export npm_config_nodedir=/usr
    export npm_config_build_from_source=true
    npm ci --no-audit --no-fund --loglevel=error
  )
  node -e "const D=require('$tmp/node_modules/better-sqlite3'); new D(':memory:').prepare('select 1').get()" \
    || { say "better-sqlite3 does not load" >&2; exit 1; }
  rm -rf "$dest"
  mv "$tmp" "$dest"
  touch "$dest/.complete"
  say "npm: installed $(ls "$dest/node_modules" | wc -l) top-level entries"
fi
# Keep the cache small but not thrashing: worktrees on other lockfiles may share this
# cache (and be running tests from it), so keep the $keep most recently used trees and
# drop the rest, and any .tmp-* left by a killed install (none is running: we hold the lock).
keep=3
ls -1dt "$cache_root"/*/.complete 2>/dev/null | tail -n +$((keep + 1)) | while read -r stale; do
  rm -rf "$(dirname "$stale")" && say "npm: removed stale cache $(dirname "$stale")"
done
rm -rf "$cache_root"/.tmp-*

link="$here/node_modules"
if [ "$(readlink "$link" 2>/dev/null || true)" != "$dest/node_modules" ]; then
  rm -rf "$link"
  ln -s "$dest/node_modules" "$link"
  say "npm: linked $link -> $dest/node_modules"
else
  say "npm: $link already linked"
fi

say "done in $(( $(date +%s) - t0 ))s"
