#!/usr/bin/env bash
# What one call of `POST /api/v1/convert` costs on each host of the service, in one run: release
# `tombstone serve`, the Workers module under `wrangler dev --local` (workerd from npm), and real
# Spin when a Spin CLI is found. wrk (Debian's), one connection, keep-alive, Mercoa's own example
# as the body; the hosts take turns, ROUNDS rounds of SECONDS_PER_ROUND each, and the table gives
# each host's median over its rounds of the per-call median (p50) and of requests/s, with the
# ratio to `tombstone serve`. First it checks that every host answers the same bytes.
# Not part of the tests (numbers, not assertions). ROUNDS (default 3), SECONDS_PER_ROUND
# (default 5), SPIN (the Spin CLI; default: spin on PATH; none: that row is skipped, saying so).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
rounds=${ROUNDS:-3}
seconds=${SECONDS_PER_ROUND:-5}
cargo run --quiet --release --locked -p xtask -- spin >&2
cargo run --quiet --release --locked -p xtask -- workers >&2
cargo build --quiet --release --locked -p tombstone-host
(cd workers && npm ci --no-audit --no-fund --loglevel=error)
dir=$(mktemp -d)
pids=()
trap 'kill -KILL -- "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { # url, log
  for _ in $(seq 600); do curl -s -o /dev/null "$1/healthz" && return; sleep 0.1; done
  echo "no answer at $1:" >&2; cat "$2" >&2; exit 1
}

hosts=()
declare -A urls
port=$(free_port)
target/release/tombstone serve --listen "127.0.0.1:$port" --kv-memory >"$dir/serve.log" 2>&1 &
pids+=($!)
disown
urls[serve]=http://127.0.0.1:$port
hosts+=(serve)

port=$(free_port)
(cd workers && WRANGLER_SEND_METRICS=false CI=1 setsid node_modules/.bin/wrangler dev --local \
  --ip 127.0.0.1 --port "$port" --inspector-port "$(free_port)" --persist-to "$dir/workers" \
  --show-interactive-dev-session=false >"$dir/workers.log" 2>&1) &
pids+=(-$!)
disown
urls[workers]=http://127.0.0.1:$port
hosts+=(workers)

# The floor under the Workers row: a Worker that answers a constant, under the same wrangler dev
# (its local proxy and workerd's own request handling).
mkdir -p "$dir/floor"
printf 'export default { fetch() { return new Response("ok"); } };\n' >"$dir/floor/floor.mjs"
printf 'name = "floor"\nmain = "floor.mjs"\ncompatibility_date = "2026-04-01"\n' >"$dir/floor/wrangler.toml"
port=$(free_port)
(cd "$dir/floor" && WRANGLER_SEND_METRICS=false CI=1 setsid "$OLDPWD/workers/node_modules/.bin/wrangler" dev \
  --local --ip 127.0.0.1 --port "$port" --inspector-port "$(free_port)" \
  --show-interactive-dev-session=false >"$dir/floor.log" 2>&1) &
pids+=(-$!)
disown
urls[floor]=http://127.0.0.1:$port
hosts+=(floor)

spin=${SPIN:-$(command -v spin || true)}
if [ -n "$spin" ]; then
  port=$(free_port)
  setsid "$spin" up --listen "127.0.0.1:$port" --state-dir "$dir/spin" >"$dir/spin.log" 2>&1 &
  pids+=(-$!)
  disown
  urls[spin]=http://127.0.0.1:$port
  hosts+=(spin)
else
  echo "real Spin: no Spin CLI found (set SPIN or put spin on PATH): its row is skipped"
fi
for host in "${hosts[@]}"; do wait_up "${urls[$host]}" "$dir/$host.log"; done
answering=("${hosts[@]/floor/}")

body=tests/conformance/payloads/mercoa/00-doc-example-verbatim.json
path='/api/v1/convert?organization_id=acme-vet&received_at=2026-01-01T00:00:00Z'
for host in ${answering[@]}; do
  curl -s -X POST "${urls[$host]}$path" -H 'Content-Type: application/json' --data-binary @"$body" \
    >"$dir/$host.answer"
  cmp -s "$dir/serve.answer" "$dir/$host.answer" || { echo "$host answers other bytes than serve" >&2; exit 1; }
done
echo "every host answers the same $(stat -c %s "$dir/serve.answer") bytes"

# One round: wrk's p50 latency (µs) and requests/s.
round() { # host
  BODY_FILE=$body wrk -t1 -c1 -d"${seconds}s" --latency -s scripts/bench/post.lua "${urls[$1]}$path" |
    awk '/^ +50%/ {v=$2; u=1; if (v ~ /ms$/) u=1000; else if (v ~ /us$/) u=1; else if (v ~ /s$/) u=1000000;
                   sub(/[a-z]+$/, "", v); p50=v*u}
         /^Requests\/sec/ {rps=$2} END {printf "%.1f %.0f\n", p50, rps}'
}
for _ in $(seq "$rounds"); do
  for host in "${hosts[@]}"; do round "$host" >>"$dir/$host.rounds"; done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf '\nPOST /api/v1/convert, Mercoa example (%s bytes), 1 connection, %s rounds of %s s each\n' \
  "$(stat -c %s "$body")" "$rounds" "$seconds"
printf '%-30s %14s %10s %14s\n' host "per call (p50)" "req/s" "time vs serve"
base=$(cut -d' ' -f1 "$dir/serve.rounds" | median)
for host in "${hosts[@]}"; do
  p50=$(cut -d' ' -f1 "$dir/$host.rounds" | median)
  rps=$(cut -d' ' -f2 "$dir/$host.rounds" | median)
  case $host in
    serve) name="tombstone serve (release)" ;;
    workers) name="Workers (wrangler dev, workerd)" ;;
    floor) name="  floor: a constant, same dev" ;;
    spin) name="real Spin ($("$spin" --version | awk '{print $2}'))" ;;
  esac
  printf '%-30s %11s µs %10s %13s×\n' "$name" "$p50" "$rps" "$(awk -v a="$p50" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"
done
