#!/usr/bin/env python3
"""Driver of scripts/slow-disk: a three-machine cluster where one member's
disk syncs take 200 ms, against our etcd and Debian's etcd 3.4 in the same
run.

For each server kind: three machines on loopback; a baseline of write
latencies through the leader; then strace attaches to one follower, and
afterwards to the leader, delaying every fdatasync and fsync it makes by
200 ms (`strace -f -e inject=fdatasync,fsync:delay_enter=200000`; our WAL
syncs with fdatasync, snapshots and new segments with fsync), while one
client writes through the leader. Meanwhile every follower's
`/v2/stats/self` is polled every 10 ms: the longest time its
`recvAppendRequestCnt` stood still is the longest it went without an
append or heartbeat from the leader (ours sends heartbeats as appends).
Reported per phase: write p50/p99, leader changes (from /metrics, summed
over the members), whether the leader is still the same machine, that
longest gap, and how many syncs strace delayed.

Owns: the servers and strace processes it starts (through hostile.py).
Never: attaches to a process it did not start.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

DELAY_US = 200_000
PHASE_S = 5.0


def start_cluster(kind):
    names = ["m1", "m2", "m3"]
    if kind == "ours":
        first = h.start_ours(names[0])
        h.wait_ready(first)
        machines = [first] + [h.start_ours(n, peers=first.peer) for n in names[1:]]
    else:
        ports = {n: (f"127.0.0.1:{h.free_port()}", f"127.0.0.1:{h.free_port()}") for n in names}
        cluster = ",".join(f"{n}=http://{ports[n][1]}" for n in names)
        machines = [h.start_ref(n, cluster=cluster, client=ports[n][0], peer=ports[n][1]) for n in names]
    for m in machines:
        h.wait_ready(m)
    h.wait_until(lambda: len({m.leader_peer() for m in machines}) == 1, 30, f"{kind} machines to agree on a leader")
    return machines


def leader_of(machines):
    peer = machines[0].leader_peer()
    for m in machines:
        if peer and peer.endswith(m.peer):
            return m
    raise RuntimeError(f"leader {peer} is none of ours")


def leader_changes(machines):
    return sum(m.leader_changes() or 0 for m in machines)


def recv_appends(m):
    st, body = h.request("GET", m.client, "/v2/stats/self", timeout=1)
    if st != 200:
        return None
    import json
    try:
        return json.loads(body).get("recvAppendRequestCnt")
    except ValueError:
        return None


class GapWatch(threading.Thread):
    """Longest stretch (s) a follower's append counter stood still."""

    def __init__(self, followers):
        super().__init__(daemon=True)
        self.followers, self.stop, self.gap = followers, threading.Event(), 0.0

    def run(self):
        last = {m.name: (recv_appends(m), time.monotonic()) for m in self.followers}
        while not self.stop.is_set():
            for m in self.followers:
                n, now = recv_appends(m), time.monotonic()
                seen, since = last[m.name]
                if n is not None and n != seen:
                    self.gap = max(self.gap, now - since)
                    last[m.name] = (n, now)
            time.sleep(0.01)
        now = time.monotonic()
        for _seen, since in last.values():
            self.gap = max(self.gap, now - since)


def writes(leader, seconds):
    lat, failed = [], 0
    import http.client
    host, port = leader.client.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        t = time.perf_counter()
        st, _ = h.request("PUT", leader.client, f"/v2/keys/disk/k{i % 50}", f"value={i}", timeout=5, conn=conn)
        if st in (200, 201):
            lat.append(time.perf_counter() - t)
        else:
            failed += 1
            conn = http.client.HTTPConnection(host, int(port), timeout=5)
        i += 1
    conn.close()
    return h.summary_ms(lat), failed


def tracer_of(pid):
    return h.status_field_text(pid, "TracerPid")


def slow_down(target, tag):
    """strace on every thread of `target`, delaying its syncs; returns the strace process."""
    pid = target.target_pid()
    out = os.path.join(h.WORKDIR, f"strace-{tag}.txt")
    p = h.spawn(["strace", "-f", "-qq", "-p", str(pid), "-o", out, "-e", "trace=fdatasync,fsync",
                 "-e", f"inject=fdatasync,fsync:delay_enter={DELAY_US}"], f"strace-{tag}.log")
    tasks = os.listdir(f"/proc/{pid}/task")
    h.wait_until(lambda: all(tracer_of(f"{pid}/task/{t}") not in (None, "0") for t in tasks), 10,
                 f"strace to attach to {target.name}")
    return p, out


def phase(machines, slow, tag, seconds):
    leader = leader_of(machines)
    followers = [m for m in machines if m is not leader]
    before = leader_changes(machines)
    tracer, out = slow_down(slow, tag) if slow else (None, None)
    gaps = GapWatch(followers)
    gaps.start()
    lat, failed = writes(leader, seconds)
    gaps.stop.set()
    gaps.join()
    delayed = 0
    if tracer:
        h.kill(tracer)
        with open(out, errors="replace") as f:
            delayed = sum(1 for line in f if "(DELAYED)" in line)
    return {"tag": tag, "lat": lat, "failed": failed, "elections": leader_changes(machines) - before,
            "same_leader": leader_of(machines) is leader, "gap_ms": gaps.gap * 1000, "delayed": delayed}


def measure(kind, seconds):
    h.log("slow-disk", f"{kind}: three machines")
    machines = start_cluster(kind)
    writes(leader_of(machines), 1.0)  # warm-up
    results = [phase(machines, None, "none", seconds)]
    leader = leader_of(machines)
    follower = next(m for m in machines if m is not leader)
    h.log("slow-disk", f"{kind}: follower {follower.name}'s syncs take 200 ms")
    results.append(phase(machines, follower, "follower", seconds))
    h.log("slow-disk", f"{kind}: leader {leader_of(machines).name}'s syncs take 200 ms")
    results.append(phase(machines, leader_of(machines), "leader", seconds))
    for m in machines:
        h.kill(m.proc)
    return kind, results


def report(runs):
    print()
    print("| server | slow syncs on | writes p50 / p99 ms | failed | leader changes | same leader "
          "| longest a follower heard nothing | syncs delayed |")
    print("|---|---|---:|---:|---:|---|---:|---:|")
    for kind, results in runs:
        name = "ours" if kind == "ours" else "etcd 3.4"
        for r in results:
            print(f"| {name} | {r['tag']} | {r['lat']['p50']:.1f} / {r['lat']['p99']:.1f} ({r['lat']['n']} writes) "
                  f"| {r['failed']} | {r['elections']} | {'yes' if r['same_leader'] else 'NO'} "
                  f"| {r['gap_ms']:.0f} ms | {r['delayed']} |")


def main():
    ci = "--ci" in sys.argv[1:]
    seconds = float(os.environ.get("SLOW_DISK_SECONDS", "3" if ci else PHASE_S))
    kinds = ["ours"] + (["ref"] if h.have_ref() and not ci else [])
    runs = [measure(kind, seconds) for kind in kinds]
    report(runs)
    failures = []
    for r in runs[0][1]:
        if r["elections"] or not r["same_leader"]:
            failures.append(f"slow syncs on the {r['tag']}: {r['elections']} leader changes")
        if r["failed"]:
            failures.append(f"slow syncs on the {r['tag']}: {r['failed']} writes failed")
        if r["tag"] != "none" and not r["delayed"]:
            failures.append(f"strace delayed no sync on the {r['tag']}")
    for f in failures:
        print(f"slow-disk: FAILED: {f}", file=sys.stderr)
    if ci and not failures:
        print("slow-disk --ci: no election and no failed write with 200 ms syncs on a follower, then the leader")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(h.run_main(main))
