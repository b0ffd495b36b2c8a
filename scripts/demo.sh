#!/usr/bin/env bash
# Runs the auth server on its embedded defaults (SQLite in ./data, the local catalog in
# examples/demo/org.yaml) together with the mock Palette IdP, then open
# http://127.0.0.1:7007/ and click "Sign in with SpectroCloud". Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
mkdir -p bin
go build -tags nomsgpack -o bin/authbackend ./cmd/authbackend
go build -o bin/mockpalette ./cmd/mockpalette
bin/mockpalette --listen 127.0.0.1:7010 --tenant demo \
  --client-id backstage-demo --client-secret demo-secret \
  --users examples/demo/palette-users.yaml --login-form &
mock=$!
trap 'kill "$mock" 2>/dev/null || true' EXIT INT TERM
NODE_ENV="${NODE_ENV:-development}" bin/authbackend --config examples/demo/app-config.yaml "$@"
