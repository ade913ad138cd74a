#!/usr/bin/env bash
# Two `tombstone` binaries side by side on the README's request (Mercoa's doc example, 7.9 KB,
# every request a new deletion, each server on its own SQLite store), in alternating wrk rounds
# so that both see the same machine: for a build change (a profile, a feature), the request
# time it costs or saves. Prints one table: each round's req/s and p99, then the medians.
#   scripts/bench-serve-ab.sh BEFORE_BINARY AFTER_BINARY [COMPONENT]
# COMPONENT: the Spin component both serve (default target/wasm/tombstone_spin.wasm; both
# binaries must be builds of the same edge sources, which serve checks). ROUNDS (default 5),
# SECONDS_PER_ROUND (default 10), CONNECTIONS (default 16). wrk is Debian's.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
before=$1 after=$2 component=${3:-target/wasm/tombstone_spin.wasm}
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT
sed 's/"in_26e7b5d3-a739-4b23-9ad9-6aaa085f47a9"/"INVOICE_ID"/' \
  tests/conformance/payloads/mercoa/00-doc-example-verbatim.json >"$dir/mercoa.json"

start() { # name, binary: a server on its own store (not in a subshell, so its pid is kept)
  "$2" serve --listen 127.0.0.1:0 --component "$component" --kv "$dir/$1.sqlite" >"$dir/$1.log" 2>&1 &
  pids+=($!)
}
url() { # name: the base URL the server printed once it listens
  for _ in $(seq 600); do grep -q "listening on" "$dir/$1.log" && break; sleep 0.1; done
  sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$dir/$1.log"
}
start before "$before"
start after "$after"
before_url=$(url before)
after_url=$(url after)
[ -n "$before_url" ] && [ -n "$after_url" ] || { cat "$dir"/*.log >&2; exit 1; }

round() { # url, prefix: "req/s p99"
  UNIQUE=1 BODY_FILE="$dir/mercoa.json" PREFIX=$2 wrk -t2 -c"${CONNECTIONS:-16}" \
    -d"${SECONDS_PER_ROUND:-10}s" --latency -s scripts/bench/post.lua "$1/api/v1/webhooks/mercoa/acme-vet" |
    awk '/Requests\/sec/ {r = $2} $1 == "99%" {p = $2} END {print r, p}'
}
echo "README's request (Mercoa, every one new) on $(nproc) cores; wrk -t2 -c${CONNECTIONS:-16} -d${SECONDS_PER_ROUND:-10}s per round"
echo "| round | before req/s | before p99 | after req/s | after p99 |"
echo "|---:|---:|---:|---:|---:|"
for n in $(seq "${ROUNDS:-5}"); do
  read -r b_rps b_p99 < <(round "$before_url" "b$n")
  read -r a_rps a_p99 < <(round "$after_url" "a$n")
  echo "| $n | $b_rps | $b_p99 | $a_rps | $a_p99 |"
  echo "$b_rps $a_rps" >>"$dir/rates"
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
b=$(cut -d' ' -f1 "$dir/rates" | median)
a=$(cut -d' ' -f2 "$dir/rates" | median)
awk -v b="$b" -v a="$a" 'BEGIN {printf "| median | %.0f | | %.0f | |\nafter ÷ before: %.3f\n", b, a, a / b}'
