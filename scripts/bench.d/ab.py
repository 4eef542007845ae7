#!/usr/bin/env python3
"""Interleaved A/B of two or more builds of ours (scripts/bench-ab).

One cluster per binary, all up at once; wrk runs of a few seconds take
turns between them, round after round, and each binary's median is
printed. A cluster waits idle (heartbeats only) while another is measured,
so a slow minute of this shared machine hits every binary alike. Same-run
ratios from three 5 s runs each (scripts/bench) swing by 15%; interleaved
medians of eight 3 s runs tell a 5% change apart.

Environment: AB_CLIENTS (1), AB_ROUNDS (8), AB_SECONDS (3), AB_MEMBERS (3),
AB_MODE (put; or get, qget, version as in load.lua: the read modes preload
READ_KEYS keys first), AB_VIA (leader; follower: the second member;
every: the clients split over every member, one wrk each, their rates
summed, as scripts/bench's reads).
"""
import http.client
import os
import statistics
import subprocess
import sys

from benchlib import (CHILDREN, WORKDIR, cleanup, free_port, request, shares, spawn, wait_until,
                      wrk_result)

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "load.lua")
READ_KEYS = 1000
VALUE = "value=" + "x" * 100  # as load.lua writes


def start_cluster(binary, index, members):
    """Members join the first one, each awaited; returns their client
    addresses, the first one's (the leader's) first."""
    first_peer, clients = None, []
    for i in range(1, members + 1):
        peer, client = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        argv = [binary, "-name", f"m{i}", "-addr", client, "-peer-addr", peer,
                "-data-dir", os.path.join(WORKDIR, f"b{index}-m{i}")]
        if first_peer:
            argv += ["-peers", first_peer]
        spawn(argv, f"b{index}-m{i}.log")
        first_peer = first_peer or peer
        clients.append(client)
        wait_until(lambda: request("GET", clients[0], f"/v2/keys/_etcd/machines/m{i}")[0] == 200,
                   30, what=f"member m{i} of {binary}")
    return clients


def preload(clients):
    """The keys the read modes ask for, written through the leader; every
    member must hold the last one before a plain read counts."""
    host, port = clients[0].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    for k in range(READ_KEYS):
        status, _ = request("PUT", clients[0], f"/v2/keys/bench/{k}", VALUE, conn=conn)
        if status not in (200, 201):
            raise RuntimeError(f"preloading bench/{k}: {status}")
    conn.close()
    for c in clients:
        wait_until(lambda: request("GET", c, f"/v2/keys/bench/{READ_KEYS - 1}")[0] == 200,
                   30, what=f"{c} holding the preloaded keys")


def wrk_argv(client, clients, seconds, mode, base):
    threads = 1 if clients == 1 else 2
    return ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s",
            "-s", LUA, f"http://{client}", "--", mode, str(base), str(READ_KEYS)]


def requests_per_second(r):
    if r["not2xx"] + r["sockerr"] + r["timeout"]:
        raise RuntimeError(f"bad answers: {r}")
    return r["requests"] / (r["duration_us"] / 1e6)


def run_wrk(targets, clients, seconds, mode, base):
    """`clients` connections split over `targets`, one wrk each, all at
    once; the sum of their rates."""
    procs = []
    for target, share in zip(targets, shares(clients, len(targets))):
        p = subprocess.Popen(wrk_argv(target, share, seconds, mode, base),
                             stdout=subprocess.PIPE, text=True)
        CHILDREN.append(p)
        procs.append(p)
    outs = [p.communicate()[0] for p in procs]
    return sum(requests_per_second(wrk_result(p.returncode, out)) for p, out in zip(procs, outs))


def main():
    binaries = sys.argv[1:]
    if len(binaries) < 2:
        sys.exit("usage: scripts/bench-ab BINARY_A BINARY_B [...]")
    env = os.environ.get
    clients, rounds = int(env("AB_CLIENTS", "1")), int(env("AB_ROUNDS", "8"))
    seconds, members = int(env("AB_SECONDS", "3")), int(env("AB_MEMBERS", "3"))
    mode, via = env("AB_MODE", "put"), env("AB_VIA", "leader")
    if via not in ("leader", "follower", "every") or (via == "follower" and members < 2):
        sys.exit(f"AB_VIA={via}: leader, follower (two members or more) or every")
    failed = True
    try:
        clusters = [start_cluster(b, i, members) for i, b in enumerate(binaries)]
        if mode in ("get", "qget"):
            for c in clusters:
                preload(c)
        # By position: the same binary may be given twice (a noise check).
        rates = [[] for _ in binaries]
        base = 0
        for _ in range(rounds):
            for runs, members_of in zip(rates, clusters):
                base += 10 ** 8  # every run writes keys no earlier run wrote
                targets = {"leader": members_of[:1], "follower": members_of[1:2],
                           "every": members_of}[via]
                runs.append(run_wrk(targets, clients, seconds, mode, base))
        where = {"leader": "through the leader", "follower": "on a follower",
                 "every": "spread over every member"}[via]
        print(f"{members} member(s), {clients} client(s) {where}, {mode}, "
              f"{rounds} rounds of {seconds} s, interleaved")
        first = statistics.median(rates[0])
        for b, runs_of in zip(binaries, rates):
            med = statistics.median(runs_of)
            runs = " ".join(f"{x:.0f}" for x in runs_of)
            print(f"  {b}: median {med:.0f} req/s ({med / first:.2f}x the first)  runs: {runs}")
        failed = False
    finally:
        cleanup(failed=failed)


if __name__ == "__main__":
    main()
