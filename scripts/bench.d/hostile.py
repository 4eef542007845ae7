"""Shared by scripts/storm, scripts/watchers and scripts/slow-disk: starting
our etcd and Debian's etcd 3.4 (v2 API) on free loopback ports in temp dirs,
alone or as three-machine clusters, asking them simple things, and tearing
everything down.

Owns: every process it starts (killed in `cleanup`, on signals too) and
its temp dir. Never: touches a process it did not start, or measures
anything itself (the drivers do).
"""

import json
import math
import os
import re
import signal
import sys
import time

import benchlib
# Re-exported: the drivers reach them as hostile.spawn, hostile.wait_until, ...
from benchlib import CHILDREN, WORKDIR, cleanup, free_port, kill, request, spawn, wait_until  # noqa: F401

OURS_BIN = os.environ.get("ETCD_BIN", "")
REF_BIN = os.environ.get("REF_ETCD_BIN", "")


def log(tag, msg):
    print(f"[{tag} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_main(main):
    """Runs `main()` with cleanup on every exit path; returns its exit status."""
    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    failed = True
    try:
        status = main()
        failed = status != 0
        return status
    finally:
        cleanup(failed)


class Server:
    """One machine: its process, addresses and kind ("ours" or "ref")."""

    def __init__(self, kind, name, proc, client, peer, logname):
        self.kind, self.name, self.proc = kind, name, proc
        self.client, self.peer, self.logname = client, peer, logname

    @property
    def pid(self):
        return self.proc.pid

    def rss_kib(self):
        return status_field(self.target_pid(), "VmRSS")

    def target_pid(self):
        """The etcd process itself (under strace, the traced child)."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                kids = f.read().split()
        except OSError:
            kids = []
        return int(kids[0]) if kids else self.proc.pid

    def log_text(self):
        with open(os.path.join(WORKDIR, self.logname), errors="replace") as f:
            return f.read()

    def leader_peer(self):
        return benchlib.leader_peer(self.kind, self.client)

    def leader_changes(self):
        """etcd_server_leader_changes_seen_total from /metrics (both kinds serve it)."""
        st, body = request("GET", self.client, "/metrics", timeout=2)
        if st != 200:
            return None
        m = re.search(r"^etcd_server_leader_changes_seen_total\s+(\S+)", body, re.M)
        return int(float(m.group(1))) if m else None


def status_field(pid, field):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1)) if m else 0


def status_field_text(pid, field):
    """A /proc/PID/status field as text (PID may be "PID/task/TID"); None if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(rf"^{field}:\s+(\S+)", f.read(), re.M)
    except OSError:
        return None
    return m.group(1) if m else None


def meminfo_kib(field):
    with open("/proc/meminfo") as f:
        m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1)) if m else 0


def start_ours(name, extra=(), peers=None, wrap=None):
    client, peer = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    datadir = os.path.join(WORKDIR, f"ours-{name}")
    argv = [OURS_BIN, "-name", name, "-addr", client, "-peer-addr", peer, "-data-dir", datadir]
    if peers:
        argv += ["-peers", peers]
    argv += list(extra)
    logname = f"ours-{name}.log"
    return Server("ours", name, spawn(argv, logname, wrap), client, peer, logname)


def start_ref(name, cluster=None, client=None, peer=None, token="hostile", wrap=None, extra=()):
    client = client or f"127.0.0.1:{free_port()}"
    peer = peer or f"127.0.0.1:{free_port()}"
    datadir = os.path.join(WORKDIR, f"ref-{name}")
    argv = [REF_BIN, "--name", name, "--data-dir", datadir, "--enable-v2=true",
            "--listen-client-urls", f"http://{client}", "--advertise-client-urls", f"http://{client}",
            "--listen-peer-urls", f"http://{peer}", "--initial-advertise-peer-urls", f"http://{peer}",
            "--initial-cluster", cluster or f"{name}=http://{peer}",
            "--initial-cluster-state", "new", "--initial-cluster-token", token] + list(extra)
    logname = f"ref-{name}.log"
    return Server("ref", name, spawn(argv, logname, wrap), client, peer, logname)


def wait_ready(srv, limit=30):
    wait_until(lambda: srv.leader_peer() is not None, limit, f"{srv.kind} {srv.name} to know a leader")


def store_watchers(srv):
    st, body = request("GET", srv.client, "/v2/stats/store", timeout=5)
    if st != 200:
        return None
    try:
        return json.loads(body).get("watchers")
    except ValueError:
        return None


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    # Nearest rank: the smallest value with at least q% at or below it.
    rank = math.ceil(q / 100 * len(sorted_values))
    return sorted_values[min(len(sorted_values), max(rank, 1)) - 1]


def summary_ms(latencies):
    """'p50 / p99 / max' in milliseconds of latencies in seconds."""
    v = sorted(latencies)
    return {"n": len(v), "p50": percentile(v, 50) * 1e3, "p90": percentile(v, 90) * 1e3,
            "p99": percentile(v, 99) * 1e3, "max": (v[-1] * 1e3 if v else float("nan"))}


def have_ref():
    return bool(REF_BIN) and os.access(REF_BIN, os.X_OK)
