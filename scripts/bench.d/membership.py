#!/usr/bin/env python3
"""Membership timings for scripts/bench-membership: how long five machines
started at once with one discovery URL take to form a cluster (every one
lists all five), and how long after a kill -9 of a member a standby takes
its place (removeDelay 2 s, syncInterval 1 s). Medians over several trials.

Owns every process it starts (fresh temp data dirs, free loopback ports) and
kills them all, and removes its temp dirs, on the way out.
"""

import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.environ["ETCD_BIN"]
TRIALS = int(os.environ.get("MEMBERSHIP_TRIALS", "5"))
WORK = tempfile.mkdtemp(prefix="etcd-membership-")
CHILDREN = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(addr, path, timeout=1.0):
    host, port = addr.split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def spawn(name, args):
    client, peer = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    argv = [BIN, "-name", name, "-addr", client, "-peer-addr", peer,
            "-data-dir", os.path.join(WORK, name)] + args
    log = open(os.path.join(WORK, name + ".log"), "ab")
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
    CHILDREN.append(p)
    return {"name": name, "client": client, "peer": peer, "proc": p}


def wait(what, cond, limit=30.0, every=0.005):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            v = cond()
            if v:
                return v
        except OSError:
            pass
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


def machines(m):
    status, body = get(m["client"], "/v2/machines")
    return [u for u in body.split(", ") if u] if status == 200 else []


def kill_all():
    for p in CHILDREN:
        if p.poll() is None:
            p.kill()
            p.wait()
    CHILDREN.clear()


def discovery_trial(n, token):
    host = spawn(f"registry-{token}", [])
    wait("the registry", lambda: get(host["client"], "/v2/leader")[0] == 200)
    url = f"http://{host['client']}/v2/keys/_etcd/registry/{token}"
    started = time.monotonic()
    ms = [spawn(f"d{token}-{i}", ["-discovery", url]) for i in range(n)]
    wait("every machine to list every machine",
         lambda: all(len(machines(m)) == n for m in ms))
    took = time.monotonic() - started
    kill_all()
    return took


def replacement_trial(token):
    flags = ["-cluster-active-size", "3", "-cluster-remove-delay", "2",
             "-cluster-sync-interval", "1"]
    first = spawn(f"r{token}-1", flags)
    wait("the founder", lambda: get(first["client"], "/v2/leader")[0] == 200)
    ms = [first] + [spawn(f"r{token}-{i}", flags + ["-peers", first["peer"]]) for i in range(2, 6)]
    wait("three members", lambda: len(machines(first)) == 3)
    wait("two standbys", lambda: sum(
        1 for m in ms if "waiting as a standby" in open(os.path.join(WORK, m["name"] + ".log")).read()) == 2)
    status, leader_peer = get(first["client"], "/v2/leader")
    members = machines(first)
    victim = next(m for m in ms if f"http://{m['client']}" in members and not leader_peer.endswith(m["peer"]))
    victim["proc"].send_signal(signal.SIGKILL)
    victim["proc"].wait()
    killed = time.monotonic()
    alive = [m for m in ms if m is not victim]

    def replaced():
        for m in alive:
            try:
                urls = machines(m)
            except OSError:
                continue
            if len(urls) == 3 and f"http://{victim['client']}" not in urls:
                return True
        return False

    wait("a standby to replace the dead member", replaced)
    took = time.monotonic() - killed
    kill_all()
    return took


def main():
    try:
        formed = [discovery_trial(5, f"t{k}") for k in range(TRIALS)]
        replaced = [replacement_trial(k) for k in range(max(3, TRIALS // 2))]
        print("| measurement | median | min | max | trials |")
        print("|---|---:|---:|---:|---:|")
        for label, xs in [("5 machines by discovery, start to all listing 5", formed),
                          ("kill -9 of a member to a standby in its place (removeDelay 2 s, syncInterval 1 s)", replaced)]:
            print(f"| {label} | {statistics.median(xs) * 1000:.0f} ms | {min(xs) * 1000:.0f} ms | "
                  f"{max(xs) * 1000:.0f} ms | {len(xs)} |")
    finally:
        kill_all()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    main()
