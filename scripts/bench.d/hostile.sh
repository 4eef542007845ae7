# Sourced by scripts/storm, scripts/watchers and scripts/slow-disk: finds or
# builds our binary, finds Debian's etcd 3.4 (installs etcd-server when a
# comparison is asked for and it is missing), lifts the descriptor limit and
# runs the Python driver named by the caller. Not run on its own.
#   hostile_run DRIVER.py [--ci] [other args]
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export ETCD_BIN="${ETCD_BIN:-$TARGET/release/etcd}"
export PYTHONDONTWRITEBYTECODE=1  # keep scripts/bench.d free of __pycache__

hostile_run() {
    local driver=$1; shift
    local ci=""
    for a in "$@"; do [ "$a" = "--ci" ] && ci=1; done
    command -v python3 >/dev/null || { echo "$(basename "$driver" .py): python3 is required" >&2; exit 1; }
    if [ "$ETCD_BIN" = "$TARGET/release/etcd" ]; then
        # Others may be mid-edit: a failed build falls back to the last good binary, loudly.
        (cd "$ROOT" && cargo build --release -q) ||
            { [ -x "$ETCD_BIN" ] && echo "cargo build failed; measuring the existing $ETCD_BIN" >&2; } ||
            exit 1
    fi
    export REF_ETCD_BIN=""
    if [ -z "$ci" ] && [ -z "${HOSTILE_NO_REF:-}" ]; then
        if [ ! -x /usr/bin/etcd ]; then
            local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
            $sudo apt-get install -y etcd-server >&2 ||
                { $sudo apt-get update >&2 && $sudo apt-get install -y etcd-server >&2; } ||
                echo "apt-get install etcd-server failed; etcd 3.4 is left out" >&2
        fi
        [ -x /usr/bin/etcd ] && REF_ETCD_BIN=/usr/bin/etcd
    fi
    # Thousands of connections on both ends of loopback.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    exec python3 "$ROOT/scripts/bench.d/$driver" "$@"
}
