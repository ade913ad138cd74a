#!/usr/bin/env bash
# Load benchmark of the ingestion server: wrk (Debian's) on loopback against a release
# `tombstone serve` with its SQLite key-value store, one route at a time. Prints a table of
# requests/s and latency percentiles. Not part of the tests (numbers, not assertions).
#   SECONDS_PER_ROUTE (default 15), CONNECTIONS (default 16), THREADS (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo run --quiet --release --locked -p xtask -- spin >&2
cargo build --quiet --release --locked -p tombstone-host
dir=$(mktemp -d)
target/release/tombstone serve --listen 127.0.0.1:0 --kv "$dir/kv.sqlite" >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$dir/log" && break; sleep 0.1; done
base=$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$dir/log")

# A Mercoa delivery whose invoice id the script can vary (7.9 KB, the provider's doc example).
sed 's/"in_26e7b5d3-a739-4b23-9ad9-6aaa085f47a9"/"INVOICE_ID"/' \
  tests/conformance/payloads/mercoa/00-doc-example-verbatim.json >"$dir/mercoa.json"

run() { # name, path, env...
  local name=$1 path=$2; shift 2
  local out
  out=$(env "$@" wrk -t"${THREADS:-2}" -c"${CONNECTIONS:-16}" -d"${SECONDS_PER_ROUTE:-15}s" \
    --latency -s scripts/bench/post.lua "$base$path")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '| %-46s | %9s | %8s | %8s | %6s |\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "tombstone serve (release, SQLite key-value) on $(nproc) cores; wrk -t${THREADS:-2} -c${CONNECTIONS:-16} -d${SECONDS_PER_ROUTE:-15}s"
printf '| %-46s | %9s | %8s | %8s | %6s |\n' "route" "req/s" "p50" "p99" "non-2xx"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "-----------" "----------" "----------" "--------"
run "canonical, every request a new deletion" /api/v1/invoice-deletions UNIQUE=1
run "canonical, the same delivery again (duplicate)" /api/v1/invoice-deletions UNIQUE=0
run "Mercoa webhook 7.9 KB, every one new" /api/v1/webhooks/mercoa/bench-org UNIQUE=1 BODY_FILE="$dir/mercoa.json"
run "Mercoa webhook 7.9 KB, duplicate" /api/v1/webhooks/mercoa/bench-org UNIQUE=0 BODY_FILE="$dir/mercoa.json"
