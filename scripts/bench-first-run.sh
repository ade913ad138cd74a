#!/usr/bin/env bash
# What a newcomer waits for: a clean clone of this repository (HEAD) with an empty target/ and,
# by default, an empty cargo home (every crate downloaded again), then
#   1. scripts/run.sh, timed until the server answers GET /healthz (time to healthy);
#   2. with TESTS=1, scripts/test.sh right after, timed whole (what it reuses from step 1).
# Prints one table. Not part of the tests (numbers, not assertions); it takes as long as it
# measures. Run it on an otherwise idle machine.
#   KEEP_CARGO_HOME=1  reuse ~/.cargo's downloaded crates (measures building only)
#   TESTS=1            also time scripts/test.sh after run.sh
#   PORT               where run.sh's server listens (default 3000, as run.sh's)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-3000}
if curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; then
  echo "something already answers on 127.0.0.1:$port: stop it first" >&2
  exit 1
fi
work=$(mktemp -d)
git clone -q . "$work/clone"
if [ "${KEEP_CARGO_HOME:-0}" != 1 ]; then
  # A fresh cargo home: rustup's proxies stay on PATH; what cargo installs lands in it.
  export CARGO_HOME="$work/cargo-home"
  mkdir -p "$CARGO_HOME"
  export PATH="$CARGO_HOME/bin:$PATH"
fi
server=
trap '[ -n "$server" ] && kill -- -"$server" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work/clone"
start=$SECONDS
setsid scripts/run.sh >"$work/run.log" 2>&1 &
server=$!
until curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "scripts/run.sh stopped before answering:" >&2
    tail -n 20 "$work/run.log" >&2
    exit 1
  fi
  sleep 1
done
healthy=$((SECONDS - start))
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/webhooks/mercoa/acme-vet" \
  -H 'Content-Type: application/json' \
  --data-binary @tests/conformance/payloads/mercoa/00-doc-example-verbatim.json)
kill -- -"$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
server=
tests="(not run: TESTS=1)"
if [ "${TESTS:-0}" = 1 ]; then
  start=$SECONDS
  if scripts/test.sh >"$work/test.log" 2>&1; then
    tests="$((SECONDS - start)) s"
  else
    tests="FAILED after $((SECONDS - start)) s"
    tail -n 30 "$work/test.log" >&2
  fi
fi
echo "clean clone of $(git rev-parse --short HEAD) on $(nproc) cores, cargo home: $([ "${KEEP_CARGO_HOME:-0}" = 1 ] && echo kept || echo empty)"
echo "| step | time |"
echo "|---|---:|"
echo "| scripts/run.sh until GET /healthz answers | $healthy s |"
echo "| the README's request then (HTTP status) | $status |"
echo "| scripts/test.sh right after | $tests |"
