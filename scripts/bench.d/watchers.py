#!/usr/bin/env python3
"""Driver of scripts/watchers: many idle long-poll watchers on one member,
other clients' latency meanwhile, and what happens past the connection
limit; against our etcd and Debian's etcd 3.4 in the same run.

For each server: a baseline of write and read latencies with no watchers
(one client on a keep-alive connection, plus reads on fresh connections),
then N idle watchers (`GET /v2/keys/idle/w<i>?wait=true`, each on its own
connection, none ever woken), opened in batches until the server's
`/v2/stats/store` counts them all; the resident memory they added; the same
latencies again with all of them waiting; then all watchers hang up, and
the time until the server has let go of every one. Ours alone then runs
the limit check: a member started with a small `-max-connections`, filled
with watchers, must answer the next connections 503 with etcd's JSON error
(errorCode 300), log at most about one line per second about it, and serve
again once watchers leave.

Owns: the servers it starts (through hostile.py) and its sockets. Never:
counts a watcher the server does not report, or a 503 as an answer.
"""

import json
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

BATCH = 500
SETTLE_S = 60.0


def watch_request(i):
    return (f"GET /v2/keys/idle/w{i}?wait=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").encode()


class Crowd:
    """N idle watchers held open by this one process."""

    def __init__(self, hostport):
        host, port = hostport.split(":")
        self.addr = (host, int(port))
        self.socks = []
        self.ep = select.epoll()

    def open(self, n, first):
        """Opens n watch connections (non-blocking) and sends their requests."""
        pending = {}
        for i in range(first, first + n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(self.addr)
            if err not in (0, 115):  # EINPROGRESS
                s.close()
                raise RuntimeError(f"connect failed: {os.strerror(err)}")
            pending[s.fileno()] = (s, watch_request(i))
            self.ep.register(s.fileno(), select.EPOLLOUT)
        deadline = time.monotonic() + SETTLE_S
        while pending and time.monotonic() < deadline:
            for fd, _ev in self.ep.poll(0.5):
                s, req = pending.pop(fd)
                self.ep.unregister(fd)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise RuntimeError(f"watch connection failed: {os.strerror(err)}")
                s.send(req)
                self.socks.append(s)
        if pending:
            raise RuntimeError(f"{len(pending)} watch connections never connected")

    def answered_early(self):
        """Watchers whose server closed the connection or sent a body (none may)."""
        bad = 0
        for s in self.socks:
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            # Closed, or an event (JSON) in the body: the watch did not stay idle.
            if not data or b"{" in data:
                bad += 1
        return bad

    def close(self, n=None):
        n = len(self.socks) if n is None else n
        for s in self.socks[:n]:
            s.close()
        del self.socks[:n]


def latencies(srv, writes=1000, fresh=200):
    """Write and read latencies (s) from a client with no watch of its own;
    requests that failed (no answer within 5 s, or a wrong status) are
    counted, not timed."""
    import http.client
    host, port = srv.client.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    w, r, f = [], [], []
    failed = 0

    def timed(into, ok, method, path, body=None, keep=True):
        nonlocal conn, failed
        t = time.perf_counter()
        st, _ = h.request(method, srv.client, path, body, timeout=5, conn=conn if keep else None)
        if st in ok:
            into.append(time.perf_counter() - t)
        else:
            failed += 1
            if keep:
                conn = http.client.HTTPConnection(host, int(port), timeout=5)
    for i in range(writes):
        timed(w, (200, 201), "PUT", f"/v2/keys/load/k{i % 100}", f"value=v{i}")
        timed(r, (200,), "GET", f"/v2/keys/load/k{i % 100}")
    conn.close()
    for i in range(fresh):
        timed(f, (200,), "GET", f"/v2/keys/load/k{i % 100}", keep=False)
    return {"write": h.summary_ms(w), "read": h.summary_ms(r), "fresh": h.summary_ms(f), "failed": failed}


def settled_rss(srv):
    """RSS (KiB) once it stops moving by more than 1% within half a second."""
    last = srv.rss_kib()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = srv.rss_kib()
        if abs(now - last) <= last / 100:
            return now
        last = now
    return last


def measure(kind, n):
    srv = h.start_ours("watchers") if kind == "ours" else h.start_ref("watchers")
    h.wait_ready(srv)
    h.log("watchers", f"{kind}: baseline latencies")
    latencies(srv, writes=300, fresh=50)  # warm-up
    before = latencies(srv)
    rss0 = settled_rss(srv)
    kstack0 = h.meminfo_kib("KernelStack")
    h.log("watchers", f"{kind}: opening {n} idle watchers")
    crowd = Crowd(srv.client)
    t0 = time.perf_counter()
    for first in range(0, n, BATCH):
        crowd.open(min(BATCH, n - first), first)
    h.wait_until(lambda: (h.store_watchers(srv) or 0) >= n, SETTLE_S, f"{kind} to count {n} watchers")
    opened_s = time.perf_counter() - t0
    rss1 = settled_rss(srv)
    kstack1 = h.meminfo_kib("KernelStack")
    threads = thread_count(srv)
    h.log("watchers", f"{kind}: latencies with {n} watchers")
    during = latencies(srv)
    still = h.store_watchers(srv)
    early = crowd.answered_early()
    h.log("watchers", f"{kind}: all {n} hang up")
    t1 = time.perf_counter()
    crowd.close()
    h.wait_until(lambda: h.store_watchers(srv) == 0, SETTLE_S, f"{kind} to let go of every watcher")
    released_s = time.perf_counter() - t1
    r = {"kind": kind, "n": n, "before": before, "during": during, "rss0": rss0, "rss1": rss1,
         "opened_s": opened_s, "kstack": kstack1 - kstack0, "released_s": released_s, "threads": threads,
         "still": still, "early": early}
    h.kill(srv.proc)
    return r


def thread_count(srv):
    with open(f"/proc/{srv.target_pid()}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def over_the_limit(limit=300, extra_refused=300):
    """Ours with a small -max-connections: 503 + JSON past it, throttled log, recovery."""
    srv = h.start_ours("limit", extra=["-max-connections", str(limit)])
    h.wait_ready(srv)
    crowd = Crowd(srv.client)
    crowd.open(limit - 10, 0)
    h.wait_until(lambda: h.store_watchers(srv) == limit - 10, SETTLE_S, "the watchers to be counted")
    crowd.open(10, limit)  # the limit is reached; the stats request below would be refused
    # Wait until the 10 are held (a refusal says so), then storm past the limit.
    t0 = time.monotonic()

    first = []

    def refused():
        st, body = h.request("GET", srv.client, "/v2/keys/load", timeout=5)
        if st == 503:
            first.append((st, body))
        return st == 503
    h.wait_until(refused, 10, "a 503 past the limit")
    st, body = first[0]
    err = json.loads(body)
    for _ in range(extra_refused):
        h.request("GET", srv.client, "/v2/keys/load", timeout=5)
    refusing_s = time.monotonic() - t0
    alive = srv.proc.poll() is None
    lines = [ln for ln in srv.log_text().splitlines() if "the most allowed" in ln]
    crowd.close(50)
    t1 = time.monotonic()
    h.wait_until(lambda: h.request("GET", srv.client, "/v2/stats/store", timeout=5)[0] == 200, 10,
                 "a request to be served once watchers left")
    recovered_s = time.monotonic() - t1
    crowd.close()
    h.kill(srv.proc)
    return {"limit": limit, "status": st, "error": err, "tried": extra_refused + 1,
            "log_lines": len(lines), "refusing_s": refusing_s, "alive": alive,
            "recovered_s": recovered_s}


def kib(x):
    return f"{x / 1024:.0f} MiB" if x >= 10240 else f"{x} KiB"


def report(results, limit):
    print()
    print("| server | idle watchers | opened in | RSS before / with them | per watcher | threads "
          "| write p50 / p99 ms (none → with) | read p50 / p99 ms (none → with) "
          "| new-connection read p99 ms (none → with) | all let go in | kernel stacks added (whole machine) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        name = "ours" if r["kind"] == "ours" else "etcd 3.4"
        per = (r["rss1"] - r["rss0"]) / r["n"]
        b, d = r["before"], r["during"]
        print(f"| {name} | {r['n']} | {r['opened_s']:.1f} s | {kib(r['rss0'])} / {kib(r['rss1'])} "
              f"| {per:.1f} KiB | {r['threads']} "
              f"| {b['write']['p50']:.2f} / {b['write']['p99']:.2f} → {d['write']['p50']:.2f} / {d['write']['p99']:.2f} "
              f"| {b['read']['p50']:.2f} / {b['read']['p99']:.2f} → {d['read']['p50']:.2f} / {d['read']['p99']:.2f} "
              f"| {b['fresh']['p99']:.2f} → {d['fresh']['p99']:.2f} | {r['released_s']:.2f} s | {kib(r['kstack'])} |")
    for r in results:
        for when in ("before", "during"):
            if r[when]["failed"]:
                print(f"{r['kind']}: {r[when]['failed']} requests failed ({when} the watchers)")
        if r["early"] or r["still"] != r["n"]:
            print(f"{r['kind']}: {r['early']} watchers answered early; {r['still']} counted after the load")
    if limit:
        print()
        print(f"Past -max-connections {limit['limit']} (ours): {limit['tried']} connections answered "
              f"{limit['status']} {json.dumps(limit['error'])}; {limit['log_lines']} log line(s) about it "
              f"in {limit['refusing_s']:.1f} s; still running: {limit['alive']}; served again "
              f"{limit['recovered_s'] * 1000:.0f} ms after 50 watchers left")


def main():
    ci = "--ci" in sys.argv[1:]
    n = int(os.environ.get("WATCHERS", "1000" if ci else "15000"))
    kinds = ["ours"] + (["ref"] if h.have_ref() and not ci else [])
    results = [measure(kind, n) for kind in kinds]
    limit = over_the_limit()
    report(results, limit)
    ours = results[0]
    failures = []
    if ours["during"]["failed"]:
        failures.append(f"{ours['during']['failed']} requests of other clients failed with {n} watchers")
    if ours["still"] != n or ours["early"]:
        failures.append(f"watchers lost under load: {ours['still']} of {n} counted, {ours['early']} answered early")
    if limit["status"] != 503 or limit["error"].get("errorCode") != 300:
        failures.append(f"past the limit: {limit['status']} {limit['error']}")
    if not limit["alive"]:
        failures.append("the server died past the limit")
    if limit["log_lines"] > limit["refusing_s"] + 2:
        failures.append(f"{limit['log_lines']} log lines in {limit['refusing_s']:.1f} s about refusals")
    for f in failures:
        print(f"watchers: FAILED: {f}", file=sys.stderr)
    if ci and not failures:
        print(f"watchers --ci: {n} idle watchers held and other clients served; 503 + JSON past the limit")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(h.run_main(main))
