#!/usr/bin/env bash
# OpenAI Node SDK compatibility check (issue 7): builds pagoda, serves the
# bundled stories260K model on a free loopback port with an API key, runs
# check.mjs through the official `openai` npm package, then stops the server
# with SIGTERM and requires a clean exit (0).
#
#   bash api/sdkcheck/run.sh            # from anywhere
#   PAGODA_BIN=/path/to/pagoda bash api/sdkcheck/run.sh   # use a built binary
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

bin="${PAGODA_BIN:-}"
if [[ -z "$bin" ]]; then
	bin="$work/pagoda"
	(cd "$root" && go build -o "$bin" ./cmd/pagoda)
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

key="sk-sdkcheck-$RANDOM$RANDOM"
"$bin" serve --host 127.0.0.1 --port 0 --api-key "$key" -t 1 >"$work/serve.log" 2>&1 &
pid=$!

# The server logs its address before it loads the model.
addr=""
for _ in $(seq 1 300); do
	addr="$(sed -n 's/.*listening.*addr=\(http:\/\/[0-9.:]*\).*/\1/p' "$work/serve.log" | head -n 1)"
	[[ -n "$addr" ]] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$work/serve.log" >&2
		echo "sdkcheck: pagoda serve exited before listening" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ -z "$addr" ]]; then
	cat "$work/serve.log" >&2
	echo "sdkcheck: pagoda serve did not report its address" >&2
	exit 1
fi

status=0
node "$here/check.mjs" "$addr" "$key" || status=$?

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
if [[ $rc -ne 0 ]]; then
	echo "sdkcheck: pagoda serve exited with $rc after SIGTERM, want 0" >&2
	status=1
fi
if [[ $status -ne 0 ]]; then
	echo "--- pagoda serve log" >&2
	cat "$work/serve.log" >&2
fi
exit $status
