#!/usr/bin/env bash
# Load benchmark of the ingestion server: wrk (Debian's) on loopback against release
# `tombstone serve` processes, one route at a time, all rows in one run so they compare:
#   - store mode: the server schedules in its own SQLite key-value store;
#   - relay mode: an edge server relays every deletion to a local upstream server (itself in
#     store mode, standing in for the canonical deletion API).
# Prints a table of requests/s and latency percentiles. Not part of the tests (numbers, not
# assertions).
#   SECONDS_PER_ROUTE (default 15), CONNECTIONS (default 16), THREADS (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo run --quiet --release --locked -p xtask -- spin >&2
cargo build --quiet --release --locked -p tombstone-host
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT

start() { # name, args...: starts a server, prints its base URL
  local name=$1; shift
  target/release/tombstone serve --listen 127.0.0.1:0 --kv "$dir/$name.sqlite" "$@" >"$dir/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$dir/$name.log" && break; sleep 0.1; done
  sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$dir/$name.log"
}

store=$(start store)
upstream=$(start upstream)
edge=$(start edge --var "upstream_url=$upstream/api/v1/invoice-deletions" --var "upstream_origin=$upstream")

# A Mercoa delivery whose invoice id the script can vary (7.9 KB, the provider's doc example).
sed 's/"in_26e7b5d3-a739-4b23-9ad9-6aaa085f47a9"/"INVOICE_ID"/' \
  tests/conformance/payloads/mercoa/00-doc-example-verbatim.json >"$dir/mercoa.json"

run() { # name, url, env...
  local name=$1 url=$2; shift 2
  local out
  out=$(env "$@" wrk -t"${THREADS:-2}" -c"${CONNECTIONS:-16}" -d"${SECONDS_PER_ROUTE:-15}s" \
    --latency -s scripts/bench/post.lua "$url")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '| %-58s | %9s | %8s | %8s | %6s |\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "tombstone serve (release, SQLite key-value) on $(nproc) cores; wrk -t${THREADS:-2} -c${CONNECTIONS:-16} -d${SECONDS_PER_ROUTE:-15}s"
printf '| %-58s | %9s | %8s | %8s | %6s |\n' "route" "req/s" "p50" "p99" "non-2xx"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" "-----------" "----------" "----------" "--------"
canonical=/api/v1/invoice-deletions
mercoa=/api/v1/webhooks/mercoa/bench-org
run "store: canonical, every request a new deletion" "$store$canonical" UNIQUE=1
run "store: canonical, the same delivery again (duplicate)" "$store$canonical" UNIQUE=0
run "store: Mercoa webhook 7.9 KB, every one new" "$store$mercoa" UNIQUE=1 BODY_FILE="$dir/mercoa.json"
run "store: Mercoa webhook 7.9 KB, duplicate" "$store$mercoa" UNIQUE=0 BODY_FILE="$dir/mercoa.json"
run "relay to a local upstream: canonical, every one new" "$edge$canonical" UNIQUE=1
run "relay to a local upstream: canonical, duplicate" "$edge$canonical" UNIQUE=0
run "relay to a local upstream: Mercoa 7.9 KB, every one new" "$edge$mercoa" UNIQUE=1 BODY_FILE="$dir/mercoa.json"
run "relay to a local upstream: Mercoa 7.9 KB, duplicate" "$edge$mercoa" UNIQUE=0 BODY_FILE="$dir/mercoa.json"
