#!/usr/bin/env bash
# The HTTP API against its OpenAPI document: openapi-spec-validator checks openapi.json, then
# Schemathesis sends generated requests (examples, boundaries, fuzzing, unexpected methods,
# stateful sequences) to `tombstone serve` and checks every answer against the document the
# server itself serves at /openapi.json, in two configurations:
#   open    nothing configured: the document requires no proof, and every route is reachable;
#   signed  api_keys, admin_api_keys and every source's secret and keys set: the document requires them; the
#           admin and canonical routes get the key (-H X-API-Key, and Schemathesis checks that
#           a missing or wrong key is refused with 401), and a hook (hooks.py) signs each
#           webhook as its provider would, so every generated payload is judged on its merits.
# Needs target/debug/tombstone and target/wasm/tombstone_spin.wasm (scripts/test.sh builds
# them); SCHEMATHESIS_MAX_EXAMPLES overrides the bound.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/api
venv=target/api-venv
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
fi

"$venv/bin/openapi-spec-validator" openapi.json

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
# start <variable> <log> [serve args...]: starts tombstone serve on a free port and sets
# <variable> to its URL. Not called in a command substitution: its subshell would keep the
# server's pid from the exit trap, and the server would outlive the run.
start() {
  local variable=$1 log=$2
  shift 2
  target/debug/tombstone serve --listen 127.0.0.1:0 --kv-memory "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do grep -q "listening on" "$log" && break; sleep 0.1; done
  local url
  url=$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$log")
  if [ -z "$url" ]; then
    echo "tombstone serve did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  printf -v "$variable" '%s' "$url"
}

# hooks.py: a check of every 422, and the signing of webhooks in the `signed` configuration.
export SCHEMATHESIS_HOOKS=hooks PYTHONPATH=$here
report=target/api
mkdir -p "$report"
status=0
run() {
  local name=$1 url=$2
  shift 2
  echo "-- Schemathesis, $name: $url"
  "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$url/openapi.json" --url "$url" \
    --seed 1 --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" --no-color \
    --report junit --report-junit-path "$report/schemathesis-$name.xml" "$@" || status=1
}

start open "$report/serve-open.log"
run open "$open"

secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
fixtures=adapter/edge/tests/fixtures
start signed "$report/serve-signed.log" \
  --var api_keys=schemathesis-key --var admin_api_keys=schemathesis-key \
  --var mercoa_webhook_secret=$secret --var willsuite_webhook_secret=$secret \
  --var highlevel_webhook_secret=$secret \
  --var "highlevel_rsa_public_key=$(cat $fixtures/highlevel-test-rsa.pub.pem)" \
  --var "highlevel_ed25519_public_key=$(cat $fixtures/highlevel-test-ed25519.pub.pem)"
TOMBSTONE_WEBHOOK_SECRET=$secret run signed "$signed" -H "X-API-Key: schemathesis-key"
exit $status
