# Shared helpers for the scripts: free ports, starting/stopping etcd,
# assertions with curl. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ETCD_BIN="${ETCD_BIN:-$ROOT/target/release/etcd}"
PIDS=()
FAILS=0
PASSES=0

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cleanup() {
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true
    done
    # An `if`, not `&&`: under `set -e` a false test as the trap's last
    # command made every script without a WORK dir exit 1 after success.
    if [ -n "${WORK:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# wait_until SECONDS CMD...: poll every 0.1 s until CMD succeeds.
wait_until() {
    local limit=$1; shift
    local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s%N)" -gt "$deadline" ]; then return 1; fi
        sleep 0.1
    done
}

ok()   { PASSES=$((PASSES+1)); echo "  ok   $*"; }
fail() { FAILS=$((FAILS+1)); echo "  FAIL $*"; }

# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected [$2] got [$3]"; fi
}

# check_contains NAME NEEDLE HAYSTACK
check_contains() {
    case "$3" in *"$2"*) ok "$1" ;; *) fail "$1: [$3] lacks [$2]" ;; esac
}

# json FIELD-PATH: read JSON on stdin, print a field (a.b.0.c) or "null".
json() {
    python3 -c '
import json, sys
v = json.load(sys.stdin)
for part in sys.argv[1].split(".") if sys.argv[1] else []:
    if isinstance(v, list): v = v[int(part)] if int(part) < len(v) else None
    elif isinstance(v, dict): v = v.get(part)
    else: v = None
print("null" if v is None else (json.dumps(v) if isinstance(v, (dict, list, bool)) else v))
' "$1"
}

finish() {
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}
