#!/usr/bin/env python3
"""Interleaved A/B of two or more builds of ours (scripts/bench-ab).

One cluster per binary, all up at once; wrk runs of a few seconds take
turns between them, round after round, and each binary's median is
printed. A cluster waits idle (heartbeats only) while another is measured,
so a slow minute of this shared machine hits every binary alike. Same-run
ratios from three 5 s runs each (scripts/bench) swing by 15%; interleaved
medians of eight 3 s runs tell a 5% change apart.

Environment: AB_CLIENTS (1), AB_ROUNDS (8), AB_SECONDS (3), AB_MEMBERS (3),
AB_MODE (put; or get, qget, version as in load.lua).
"""
import os
import re
import statistics
import subprocess
import sys

from benchlib import WORKDIR, cleanup, free_port, request, spawn, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "load.lua")


def start_cluster(binary, index, members):
    """Members join the first one, each awaited; returns its client address."""
    first_peer = first_client = None
    for i in range(1, members + 1):
        peer, client = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        argv = [binary, "-name", f"m{i}", "-addr", client, "-peer-addr", peer,
                "-data-dir", os.path.join(WORKDIR, f"b{index}-m{i}")]
        if first_peer:
            argv += ["-peers", first_peer]
        spawn(argv, f"b{index}-m{i}.log")
        if not first_peer:
            first_peer, first_client = peer, client
        wait_until(lambda: request("GET", first_client, f"/v2/keys/_etcd/machines/m{i}")[0] == 200,
                   30, what=f"member m{i} of {binary}")
    return first_client


def run_wrk(client, clients, seconds, mode, base):
    threads = 1 if clients == 1 else 2
    argv = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s",
            "-s", LUA, f"http://{client}", "--", mode, str(base)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    m = re.search(r"BENCH (.*)", out)
    if not m:
        raise RuntimeError(f"wrk said: {out}")
    r = dict(kv.split("=") for kv in m.group(1).split())
    if int(r["not2xx"]) + int(r["sockerr"]) + int(r["timeout"]):
        raise RuntimeError(f"bad answers: {m.group(1)}")
    return int(r["requests"]) / (int(r["duration_us"]) / 1e6)


def main():
    binaries = sys.argv[1:]
    if len(binaries) < 2:
        sys.exit("usage: scripts/bench-ab BINARY_A BINARY_B [...]")
    env = os.environ.get
    clients, rounds = int(env("AB_CLIENTS", "1")), int(env("AB_ROUNDS", "8"))
    seconds, members = int(env("AB_SECONDS", "3")), int(env("AB_MEMBERS", "3"))
    mode = env("AB_MODE", "put")
    failed = True
    try:
        leaders = [start_cluster(b, i, members) for i, b in enumerate(binaries)]
        rates = {b: [] for b in binaries}
        base = 0
        for _ in range(rounds):
            for b, client in zip(binaries, leaders):
                base += 10 ** 8  # every run writes keys no earlier run wrote
                rates[b].append(run_wrk(client, clients, seconds, mode, base))
        print(f"{members} member(s), {clients} client(s), {mode}, {rounds} rounds of {seconds} s, interleaved")
        first = statistics.median(rates[binaries[0]])
        for b in binaries:
            med = statistics.median(rates[b])
            runs = " ".join(f"{x:.0f}" for x in rates[b])
            print(f"  {b}: median {med:.0f} req/s ({med / first:.2f}x the first)  runs: {runs}")
        failed = False
    finally:
        cleanup(failed=failed)


if __name__ == "__main__":
    main()
