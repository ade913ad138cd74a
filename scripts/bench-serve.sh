#!/usr/bin/env bash
# Load benchmark of the ingestion server: wrk (Debian's) on loopback against release
# `tombstone serve` processes (and real Spin, when a Spin CLI is found), one route at a time,
# all rows in one run so they compare:
#   - store mode: the server schedules in its own SQLite key-value store;
#   - store mode on Redis (Debian's redis-server): one instance, then two instances on the same
#     Redis, each driven by its own wrk (the rates are summed, the latencies are the worse);
#   - relay mode: an edge server relays every deletion to a local upstream server (itself in
#     store mode, standing in for the canonical deletion API); then with the upstream down, where
#     every delivery is queued (after the circuit opens, without an attempt);
#   - `serve --durable`: a full sync per SQLite commit, Spin's own guarantee;
#   - real Spin (`spin up`, spin.toml unchanged, its default SQLite store): the same store-mode
#     and upstream-down rows, and a bare component doing one key-value increment per request
#     (scripts/bench/bare-spin/), the reference for what one write costs there.
# Prints a table of requests/s and latency percentiles. Not part of the tests (numbers, not
# assertions).
#   SECONDS_PER_ROUTE (default 15), CONNECTIONS (default 16), THREADS (default 2), SPIN (the
#   Spin CLI; default: spin on PATH; none: the real-Spin rows are skipped, with a line saying so),
#   SPIN_PAIRS (default 0: that many more runs of real Spin's new-deletion row and the bare row,
#   alternately, each pair's ratio printed: the disk moves the bare row a lot)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk redis-server >/dev/null
fi
cargo run --quiet --release --locked -p xtask -- spin >&2
cargo build --quiet --release --locked -p tombstone-host
dir=$(mktemp -d)
pids=()
trap 'kill -KILL -- "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT

start() { # name, args...: starts a server (not in a subshell, so its pid is kept)
  local name=$1; shift
  target/release/tombstone serve --listen 127.0.0.1:0 "$@" >"$dir/$name.log" 2>&1 &
  pids+=($!)
  disown
}
url() { # name: the base URL the server printed once it listens
  for _ in $(seq 100); do grep -q "listening on" "$dir/$1.log" && break; sleep 0.1; done
  sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$dir/$1.log"
}

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly yes --dir "$dir" >/dev/null &
pids+=($!)
disown
printf '[key_value_store.default]\ntype = "redis"\nurl = "redis://127.0.0.1:%s"\n' "$redis_port" >"$dir/redis.toml"
start store --kv "$dir/store.sqlite"
start redis1 --runtime-config "$dir/redis.toml"
start redis2 --runtime-config "$dir/redis.toml"
start upstream --kv "$dir/upstream.sqlite"
store=$(url store)
redis1=$(url redis1)
redis2=$(url redis2)
upstream=$(url upstream)
start edge --kv "$dir/edge.sqlite" --var "upstream_url=$upstream/api/v1/invoice-deletions" --var "upstream_origin=$upstream"
edge=$(url edge)
start durable --kv "$dir/durable.sqlite" --durable
durable=$(url durable)
# An upstream that is down: nothing listens on its port (connections are refused).
down=http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start edge_down --kv "$dir/edge-down.sqlite" --var "upstream_url=$down/api/v1/invoice-deletions" --var "upstream_origin=$down"
edge_down=$(url edge_down)

# Real Spin, when there is a CLI: spin.toml unchanged, its default SQLite store in a state dir.
spin=${SPIN:-$(command -v spin || true)}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
spin_up() { # name, manifest, env...: `spin up` in a process group of its own; sets $spin_url
  local name=$1 manifest=$2; shift 2
  local port; port=$(free_port)
  env "$@" setsid "$spin" up -f "$manifest" --listen "127.0.0.1:$port" --state-dir "$dir/spin-$name" \
    >"$dir/spin-$name.log" 2>&1 &
  pids+=(-$!)
  disown
  spin_url=http://127.0.0.1:$port
  for _ in $(seq 600); do curl -s -o /dev/null "$spin_url/" && return; sleep 0.1; done
  echo "spin up ($name) did not start:" >&2; cat "$dir/spin-$name.log" >&2; exit 1
}
if [ -n "$spin" ]; then
  CARGO_TARGET_DIR=target/bench-bare cargo build --quiet --release --target wasm32-wasip2 \
    --manifest-path scripts/bench/bare-spin/Cargo.toml
  spin_up store spin.toml; spin_store=$spin_url
  spin_up down spin.toml SPIN_VARIABLE_UPSTREAM_URL="$down/api/v1/invoice-deletions" \
    SPIN_VARIABLE_UPSTREAM_ORIGIN="$down"; spin_down=$spin_url
  spin_up bare scripts/bench/bare-spin/spin.toml; spin_bare=$spin_url
fi

# A Mercoa delivery whose invoice id the script can vary (7.9 KB, the provider's doc example).
sed 's/"in_26e7b5d3-a739-4b23-9ad9-6aaa085f47a9"/"INVOICE_ID"/' \
  tests/conformance/payloads/mercoa/00-doc-example-verbatim.json >"$dir/mercoa.json"

wrk_to() { # connections, url, env...: one wrk run's output
  local connections=$1 url=$2; shift 2
  env "$@" wrk -t"${THREADS:-2}" -c"$connections" -d"${SECONDS_PER_ROUTE:-15}s" \
    --latency -s scripts/bench/post.lua "$url"
}
worse() { # two wrk latencies (e.g. 812.00us, 1.23ms, 2.01s; either may be empty): the larger
  awk -v a="$1" -v b="$2" 'function us(x) {
      if (x ~ /us$/) return x + 0; if (x ~ /ms$/) return x * 1000; if (x ~ /s$/) return x * 1e6; return -1 }
    BEGIN { print (us(a) >= us(b) ? a : b) }'
}
row() { # name, wrk outputs...: one table row (rates summed, the worse latencies)
  local name=$1; shift
  local rps=0 p50="" p99="" non2xx=0 out
  for out in "$@"; do
    rps=$(awk -v a="$rps" '/Requests\/sec/ {printf "%.2f", a + $2}' <<<"$out")
    p50=$(worse "$p50" "$(awk '$1 == "50%" {print $2}' <<<"$out")")
    p99=$(worse "$p99" "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    non2xx=$((non2xx + $(awk '/Non-2xx/ {print $5}' <<<"$out" | grep . || echo 0)))
  done
  printf '| %-58s | %9s | %8s | %8s | %6s |\n' "$name" "$rps" "$p50" "$p99" "$non2xx"
}
run() { # name, url, env...
  local name=$1 url=$2; shift 2
  row "$name" "$(wrk_to "${CONNECTIONS:-16}" "$url" "$@")"
}
run_two() { # name, url1, url2, env...: both instances at once, half the connections each
  local name=$1 a=$2 b=$3; shift 3
  local half=$(( ${CONNECTIONS:-16} / 2 ))
  wrk_to "$half" "$a" PREFIX=a "$@" >"$dir/wrk-a" &
  local first=$!
  wrk_to "$half" "$b" PREFIX=b "$@" >"$dir/wrk-b"
  wait "$first"
  row "$name" "$(cat "$dir/wrk-a")" "$(cat "$dir/wrk-b")"
}

echo "tombstone serve (release) on $(nproc) cores; wrk -t${THREADS:-2} -c${CONNECTIONS:-16} -d${SECONDS_PER_ROUTE:-15}s"
printf '| %-58s | %9s | %8s | %8s | %6s |\n' "route" "req/s" "p50" "p99" "non-2xx"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" "-----------" "----------" "----------" "--------"
canonical=/api/v1/invoice-deletions
mercoa=/api/v1/webhooks/mercoa/bench-org
run "store: canonical, every request a new deletion" "$store$canonical" UNIQUE=1
run "store: canonical, the same delivery again (duplicate)" "$store$canonical" UNIQUE=0
run "store: Mercoa webhook 7.9 KB, every one new" "$store$mercoa" UNIQUE=1 BODY_FILE="$dir/mercoa.json"
run "store: Mercoa webhook 7.9 KB, duplicate" "$store$mercoa" UNIQUE=0 BODY_FILE="$dir/mercoa.json"
run "redis, 1 instance: canonical, every one new" "$redis1$canonical" UNIQUE=1
run "redis, 1 instance: canonical, duplicate" "$redis1$canonical" UNIQUE=0
run_two "redis, 2 instances: canonical, every one new" "$redis1$canonical" "$redis2$canonical" UNIQUE=1
run_two "redis, 2 instances: canonical, duplicate" "$redis1$canonical" "$redis2$canonical" UNIQUE=0
run "relay to a local upstream: canonical, every one new" "$edge$canonical" UNIQUE=1
run "relay to a local upstream: canonical, duplicate" "$edge$canonical" UNIQUE=0
run "relay to a local upstream: Mercoa 7.9 KB, every one new" "$edge$mercoa" UNIQUE=1 BODY_FILE="$dir/mercoa.json"
run "relay to a local upstream: Mercoa 7.9 KB, duplicate" "$edge$mercoa" UNIQUE=0 BODY_FILE="$dir/mercoa.json"
run "serve --durable (a full sync per write): canonical, every one new" "$durable$canonical" UNIQUE=1
run "serve --durable: canonical, duplicate" "$durable$canonical" UNIQUE=0
run "relay, upstream down: canonical, every one new (queued)" "$edge_down$canonical" UNIQUE=1
run "relay, upstream down: Mercoa 7.9 KB, every one new (queued)" "$edge_down$mercoa" UNIQUE=1 BODY_FILE="$dir/mercoa.json"
run "relay, upstream down: canonical, the same again (queued, no write)" "$edge_down$canonical" UNIQUE=0
if [ -n "$spin" ]; then
  run "real Spin: canonical, every one new" "$spin_store$canonical" UNIQUE=1
  run "real Spin: canonical, duplicate" "$spin_store$canonical" UNIQUE=0
  run "real Spin: Mercoa webhook 7.9 KB, every one new" "$spin_store$mercoa" UNIQUE=1 BODY_FILE="$dir/mercoa.json"
  run "real Spin, relay, upstream down: canonical, every one new (queued)" "$spin_down$canonical" UNIQUE=1
  run "real Spin: a bare component, one increment per request" "$spin_bare/" UNIQUE=0
  for pair in $(seq "${SPIN_PAIRS:-0}"); do
    new=$(wrk_to "${CONNECTIONS:-16}" "$spin_store$canonical" UNIQUE=1 PREFIX="pair$pair" | awk '/Requests\/sec/ {print $2}')
    bare=$(wrk_to "${CONNECTIONS:-16}" "$spin_bare/" UNIQUE=0 | awk '/Requests\/sec/ {print $2}')
    awk -v n="$new" -v b="$bare" -v p="$pair" \
      'BEGIN {printf "real Spin, pair %d: new deletions %.0f/s, bare %.0f/s: %.0f %%\n", p, n, b, 100 * n / b}'
  done
else
  echo "real Spin: no Spin CLI found (SPIN, or spin on PATH): its rows are not in this table"
fi
