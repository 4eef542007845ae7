#!/usr/bin/env python3
"""Benchmark driver for scripts/bench: our etcd against Debian's etcd 3.4 (v2 API).

Owns: starting/stopping every server it measures (fresh temp data dirs, free
loopback ports), driving wrk with bench.d/load.lua, timing startup and
failover with its own 10 ms pollers, and printing the markdown report.
Never: touches a server it did not start, or leaves one running (every child
is SIGKILLed and every temp dir removed in `finally`, on signals too).
"""

import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import benchlib
from benchlib import (CHILDREN, WORKDIR, cleanup, free_port, kill, request, shares, spawn,
                      wait_until, wrk_result)

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "load.lua")
OURS_BIN = os.environ["ETCD_BIN"]
REF_BIN = os.environ.get("REF_ETCD_BIN", "")
DURATION = int(os.environ.get("BENCH_DURATION", "5"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "1"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
FAILOVER_TRIALS = int(os.environ.get("BENCH_FAILOVER_TRIALS", "3"))
# Cluster sizes measured for throughput (1 = the single-machine scenarios).
MACHINES = [int(n) for n in os.environ.get("BENCH_MACHINES", "1 3 5").split()]
# Failover, startup and RSS; BENCH_EXTRAS=0 measures throughput only.
EXTRAS = os.environ.get("BENCH_EXTRAS", "1") != "0"
STARTUP_TRIALS = 5
READ_KEYS = 1000
RSS_KEYS = 10000
VALUE = "x" * 100  # same 100-byte value as load.lua
CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1

WORKDIR_PARENT = os.path.dirname(WORKDIR)
LOADAVG = " ".join(f"{x:.2f}" for x in os.getloadavg())


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


class Server:
    """One machine: its process, client and peer address, and how to ask it for the leader."""

    def __init__(self, kind, name, proc, client, peer):
        self.kind, self.name, self.proc, self.client, self.peer = kind, name, proc, client, peer

    def leader_peer(self, timeout=0.5):
        """The leader's peer URL as this machine reports it, or None."""
        return benchlib.leader_peer(self.kind, self.client, timeout)

    def cpu_ticks(self):
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            return 0

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1)) if m else 0


def start_ours(name, datadir, peers=None):
    client, peer = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    argv = [OURS_BIN, "-name", name, "-addr", client, "-peer-addr", peer, "-data-dir", datadir]
    if peers:
        argv += ["-peers", peers]
    return Server("ours", name, spawn(argv, f"ours-{name}.log"), client, peer)


def start_ref(name, datadir, cluster=None, client=None, peer=None, token=None):
    client = client or f"127.0.0.1:{free_port()}"
    peer = peer or f"127.0.0.1:{free_port()}"
    argv = [REF_BIN, "--name", name, "--data-dir", datadir, "--enable-v2=true",
            "--listen-client-urls", f"http://{client}", "--advertise-client-urls", f"http://{client}",
            "--listen-peer-urls", f"http://{peer}", "--initial-advertise-peer-urls", f"http://{peer}",
            "--initial-cluster", cluster or f"{name}=http://{peer}",
            "--initial-cluster-state", "new",
            # Members of one cluster must share the token; a fresh one per cluster keeps runs apart.
            "--initial-cluster-token", token or "bench-" + os.path.basename(datadir)]
    return Server("ref", name, spawn(argv, f"ref-{name}.log"), client, peer)


def fresh_dir(tag):
    return tempfile.mkdtemp(prefix=tag + "-", dir=WORKDIR)


# ---------------------------------------------------------------- http

def wait_ready(srv, limit=30):
    path = "/v2/leader" if srv.kind == "ours" else "/v2/members/leader"
    wait_until(lambda: request("GET", srv.client, path)[0] == 200, limit, what=f"{srv.kind} {srv.name} ready")


def put_keys(srv, keys, clients=16):
    """PUT bench/<k> for every k, over `clients` keep-alive connections (setup only, not measured)."""
    errors = []

    def worker(part):
        host, port = srv.client.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        for k in part:
            st, body = request("PUT", srv.client, f"/v2/keys/bench/{k}", "value=" + VALUE, conn=conn)
            if st not in (200, 201):
                errors.append((k, st, body))
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.close()

    keys = list(keys)
    ts = [threading.Thread(target=worker, args=(keys[i::clients],)) for i in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(f"preload failed for {len(errors)} keys, first: {errors[0]}")


# ---------------------------------------------------------------- wrk

_base = [0]


def run_wrk(target, servers, mode, conns, duration):
    """One wrk run; returns rate, latencies and the CPU both sides burned."""
    _base[0] += 10 ** 8  # every PUT run writes keys no earlier run wrote
    threads = 1 if conns == 1 else min(CORES, conns)
    argv = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration}s", "--timeout", "10s",
            "-s", LUA, f"http://{target.client}", "--", mode, str(_base[0]), str(READ_KEYS)]
    out_path = os.path.join(WORKDIR, "wrk.out")
    srv_before = sum(s.cpu_ticks() for s in servers)
    with open(out_path, "w") as out:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        CHILDREN.append(p)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    srv_after = sum(s.cpu_ticks() for s in servers)
    r = wrk_result(p.returncode, open(out_path).read())
    secs = r["duration_us"] / 1e6
    return {
        "rps": r["requests"] / secs,
        "p50": r["p50_us"] / 1000.0,
        "p99": r["p99_us"] / 1000.0,
        "bad": r["not2xx"] + r["sockerr"] + r["timeout"],
        "requests": r["requests"],
        "srv_cpu": (srv_after - srv_before) / CLK_TCK / secs * 100,
        "gen_cpu": (usage.ru_utime + usage.ru_stime) / secs * 100,
    }


def measure(targets, mode, conns):
    """targets: kind -> (server to load, servers whose CPU counts). One warm-up run each
    (discarded), then REPEATS rounds in which every kind runs once, back to back, so a
    burst of background load hits ours and the reference alike. Each figure is the median
    over the rounds."""
    if WARMUP > 0:
        for target, servers in targets.values():
            run_wrk(target, servers, mode, conns, WARMUP)
    runs = {kind: [] for kind in targets}
    order = list(targets)
    for _ in range(REPEATS):
        for kind in order:
            target, servers = targets[kind]
            runs[kind].append(run_wrk(target, servers, mode, conns, DURATION))
        order.reverse()  # ABBA: neither kind always runs right after the other's load
    out = {}
    for kind, rs in runs.items():
        res = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "srv_cpu", "gen_cpu")}
        res["bad"] = sum(r["bad"] for r in rs)
        res["requests"] = sum(r["requests"] for r in rs)
        log(f"  {kind} {mode} c={conns}: {res['rps']:.0f}/s p50 {res['p50']:.2f} ms "
            f"p99 {res['p99']:.2f} ms (runs {', '.join(format(r['rps'], '.0f') for r in rs)}) "
            f"srv {res['srv_cpu']:.0f}% gen {res['gen_cpu']:.0f}% bad {res['bad']}")
        out[kind] = res
    return out


# ---------------------------------------------------------------- scenarios

def single_machine(kinds):
    log(f"single machine: {', '.join(kinds)}")
    srvs = {}
    try:
        for kind in kinds:
            d = fresh_dir(f"{kind}-single")
            srvs[kind] = start_ours("s1", d) if kind == "ours" else start_ref("s1", d)
        for srv in srvs.values():
            wait_ready(srv)
            put_keys(srv, range(READ_KEYS))
        targets = {kind: (srv, [srv]) for kind, srv in srvs.items()}
        res = {kind: {} for kind in kinds}
        for key, mode, conns in (("write1", "put", 1), ("write64", "put", 64), ("read64", "get", 64)):
            for kind, r in measure(targets, mode, conns).items():
                res[kind][key] = r
        # Generator ceiling: the cheapest request, same generator, same box.
        for kind, r in measure(targets, "version", 64).items():
            res[kind]["ceiling"] = r
        return res
    finally:
        for srv in srvs.values():
            kill(srv.proc)


def start_cluster(kind, n=3):
    if kind == "ours":
        ms = []
        for i in range(1, n + 1):
            peers = ms[0].peer if ms else None
            ms.append(start_ours(f"m{i}", fresh_dir(f"ours-m{i}"), peers))
            me = ms[-1]
            wait_until(lambda: any(request("GET", m.client, f"/v2/keys/_etcd/machines/{me.name}")[0] == 200
                                   for m in ms), 30, what=f"{me.name} registered")
        return ms
    clients = [f"127.0.0.1:{free_port()}" for _ in range(n)]
    peers = [f"127.0.0.1:{free_port()}" for _ in range(n)]
    cluster = ",".join(f"m{i + 1}=http://{peers[i]}" for i in range(n))
    token = "bench-cluster-" + os.path.basename(fresh_dir("ref-token"))
    ms = [start_ref(f"m{i + 1}", fresh_dir(f"ref-m{i + 1}"), cluster, clients[i], peers[i], token)
          for i in range(n)]
    for m in ms:
        wait_ready(m)
    return ms


def find_leader(ms):
    by_peer = {f"http://{m.peer}": m for m in ms}
    found = []

    def pred():
        for m in ms:
            lp = m.leader_peer()
            if lp in by_peer:
                found.append(by_peer[lp])
                return True
        return False

    wait_until(pred, 30, what="a leader")
    return found[0]


def failover(ms, leader):
    """kill -9 the leader; ms until a survivor names a new leader, and until a write succeeds."""
    survivors = [m for m in ms if m is not leader]
    old = f"http://{leader.peer}"
    times = {}
    stop = threading.Event()

    def poll_leader():
        while not stop.is_set():
            for m in survivors:
                lp = m.leader_peer(timeout=0.2)
                if lp and lp != old:
                    times.setdefault("leader", time.monotonic())
                    return
            time.sleep(0.01)

    def poll_write():
        n = 0
        while not stop.is_set():
            for m in survivors:
                n += 1
                target, path = m.client, f"/v2/keys/failover/{n}"
                st = put_following_redirect(target, path)
                if st in (200, 201):
                    times.setdefault("write", time.monotonic())
                    return
            time.sleep(0.01)

    t0 = time.monotonic()
    leader.proc.kill()
    leader.proc.wait()
    ts = [threading.Thread(target=poll_leader), threading.Thread(target=poll_write)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=30)
    stop.set()
    if "leader" not in times or "write" not in times:
        raise RuntimeError(f"no failover within 30 s ({times})")
    return (times["leader"] - t0) * 1000, (times["write"] - t0) * 1000


def put_following_redirect(hostport, path):
    """PUT value=x, following one 307 (a follower may redirect writes); the final status or None."""
    for _ in range(2):
        host, port = hostport.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=0.5)
        try:
            conn.request("PUT", path, body="value=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 307:
                return resp.status
            loc = urllib.parse.urlsplit(resp.getheader("Location") or "")
            if not loc.netloc:
                return resp.status
            hostport, path = loc.netloc, loc.path
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
    return None


def cluster(kinds, n=3, failover_trials=FAILOVER_TRIALS):
    """Throughput through each kind's leader (clusters up side by side, runs interleaved),
    then failover trials one kind at a time, on a fresh cluster for every trial after the first."""
    log(f"{n}-machine clusters: {', '.join(kinds)}")
    res = {kind: {"failover": []} for kind in kinds}
    clusters = {}
    try:
        for kind in kinds:
            try:
                clusters[kind] = start_cluster(kind, n)
            except RuntimeError as e:
                if kind == "ours":
                    raise
                res[kind]["error"] = str(e)
                log(f"  {kind} cluster did not start: {e}")
        leaders = {kind: find_leader(ms) for kind, ms in clusters.items()}
        for kind, leader in leaders.items():
            log(f"  {kind} leader is {leader.name}")
            put_keys(leader, range(READ_KEYS))
        targets = {kind: (leaders[kind], ms) for kind, ms in clusters.items()}
        for key, mode, conns in (("write1", "put", 1), ("write64", "put", 64), ("read64", "get", 64)):
            for kind, r in measure(targets, mode, conns).items():
                res[kind][key] = r
        for kind in list(clusters):
            for trial in range(failover_trials):
                if trial > 0:
                    for m in clusters[kind]:
                        kill(m.proc)
                    clusters[kind] = start_cluster(kind, n)
                    leaders[kind] = find_leader(clusters[kind])
                # Let the cluster settle so the kill lands on a steady leader.
                time.sleep(0.5)
                res[kind]["failover"].append(failover(clusters[kind], leaders[kind]))
                log(f"  {kind} failover trial {trial + 1}: leader {res[kind]['failover'][-1][0]:.0f} ms, "
                    f"write {res[kind]['failover'][-1][1]:.0f} ms")
            for m in clusters.pop(kind):
                kill(m.proc)
    finally:
        for ms in clusters.values():
            for m in ms:
                kill(m.proc)
    return res


# ------------------------------------------------- reads on every member

SPREAD_CONNS = 64


def run_wrk_spread(members, mode, conns, duration):
    """One wrk process per member, all at once, `conns` connections split
    between them: the rate is their sum, p50 the median and p99 the worst of
    the members' figures."""
    _base[0] += 10 ** 8
    srv_before = sum(m.cpu_ticks() for m in members)
    procs = []
    for i, (m, c) in enumerate(zip(members, shares(conns, len(members)))):
        out_path = os.path.join(WORKDIR, f"wrk-spread-{i}.out")
        argv = ["wrk", "-t", "1", "-c", str(c), "-d", f"{duration}s", "--timeout", "10s",
                "-s", LUA, f"http://{m.client}", "--", mode, str(_base[0]), str(READ_KEYS)]
        with open(out_path, "w") as out:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        CHILDREN.append(p)
        procs.append((p, out_path))
    gen = 0.0
    results = []
    for p, out_path in procs:
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        gen += usage.ru_utime + usage.ru_stime
        results.append(wrk_result(p.returncode, open(out_path).read()))
    srv_after = sum(m.cpu_ticks() for m in members)
    secs = max(r["duration_us"] for r in results) / 1e6
    return {
        "rps": sum(r["requests"] / (r["duration_us"] / 1e6) for r in results),
        "p50": statistics.median(r["p50_us"] for r in results) / 1000.0,
        "p99": max(r["p99_us"] for r in results) / 1000.0,
        "bad": sum(r["not2xx"] + r["sockerr"] + r["timeout"] for r in results),
        "requests": sum(r["requests"] for r in results),
        "srv_cpu": (srv_after - srv_before) / CLK_TCK / secs * 100,
        "gen_cpu": gen / secs * 100,
    }


def spread_reads(kinds):
    """Default and linearizable (quorum=true) reads with 64 clients spread
    over the three members of each kind's cluster; every (kind, read) pair
    runs once per round, interleaved, and each figure is the median."""
    log(f"reads spread over three members: {', '.join(kinds)}")
    clusters = {}
    try:
        for kind in kinds:
            clusters[kind] = start_cluster(kind)
            put_keys(find_leader(clusters[kind]), range(READ_KEYS))
        # Followers must hold the preloaded keys before plain reads count.
        for kind, ms in clusters.items():
            wait_until(lambda: all(request("GET", m.client, f"/v2/keys/bench/{READ_KEYS - 1}")[0] == 200
                                   for m in ms), 30, what=f"{kind} followers caught up")
        plan = [(kind, mode) for mode in ("get", "qget") for kind in clusters]
        if WARMUP > 0:
            for kind, mode in plan:
                run_wrk_spread(clusters[kind], mode, SPREAD_CONNS, WARMUP)
        runs = {k: [] for k in plan}
        for _ in range(REPEATS):
            for kind, mode in plan:
                runs[(kind, mode)].append(run_wrk_spread(clusters[kind], mode, SPREAD_CONNS, DURATION))
        res = {kind: {} for kind in clusters}
        for (kind, mode), rs in runs.items():
            r = {k: statistics.median(x[k] for x in rs) for k in ("rps", "p50", "p99", "srv_cpu", "gen_cpu")}
            r["bad"] = sum(x["bad"] for x in rs)
            r["runs"] = [x["rps"] for x in rs]
            log(f"  {kind} {mode} spread c={SPREAD_CONNS}: {r['rps']:.0f}/s p50 {r['p50']:.2f} ms "
                f"p99 {r['p99']:.2f} ms (runs {', '.join(format(x, '.0f') for x in r['runs'])}) "
                f"srv {r['srv_cpu']:.0f}% gen {r['gen_cpu']:.0f}% bad {r['bad']}")
            res[kind][mode] = r
        return res
    finally:
        for ms in clusters.values():
            for m in ms:
                kill(m.proc)


def spread_report(ours, ref):
    """The markdown section for `spread_reads`."""
    o, r = ours.get("spread", {}), ref.get("spread", {})
    lines = ["", f"## Reads on every member ({SPREAD_CONNS} clients spread over the three members)", "",
             "| read | ours req/s | ours p50 ms | ours p99 ms | ref req/s | ref p50 ms | ref p99 ms "
             "| req/s ours/ref | ours srv/gen CPU % | ref srv/gen CPU % | bad answers ours / ref |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, mode in (("default (local copy)", "get"), ("linearizable (`quorum=true`)", "qget")):
        a, b = o.get(mode), r.get(mode)
        cells = [label]
        for x in (a, b):
            cells += [fmt(x and x["rps"], ".0f"), fmt(x and x["p50"], ".2f"), fmt(x and x["p99"], ".2f")]
        cells.append(ratio(a and a["rps"], b and b["rps"]))
        for x in (a, b):
            cells.append(f"{x['srv_cpu']:.0f} / {x['gen_cpu']:.0f}" if x else "–")
        cells.append(f"{a['bad'] if a else '–'} / {b['bad'] if b else '–'}")
        lines.append("| " + " | ".join(cells) + " |")
    lin, dflt, ref_lin = o.get("qget"), o.get("get"), r.get("qget")
    lines += ["", f"- Ours, linearizable / default reads: {ratio(lin and lin['rps'], dflt and dflt['rps'])}; "
              f"ours linearizable / ref `quorum=true`: {ratio(lin and lin['rps'], ref_lin and ref_lin['rps'])}. "
              "One wrk process per member (22/21/21 connections), all at once; rate = their sum, "
              "p50 = median of the members', p99 = the worst member's; median of the runs."]
    return lines


def reads_only(kinds, out_path):
    """BENCH_ONLY=reads: only the spread-reads scenario."""
    ours, ref = {}, {}
    try:
        for kind, r in spread_reads(kinds).items():
            (ours if kind == "ours" else ref)["spread"] = r
    except BaseException as e:
        cleanup(failed=not isinstance(e, (SystemExit, KeyboardInterrupt)))
        raise
    cleanup()
    text = "\n".join([f"# etcd benchmark: reads on every member ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                      f"{REPEATS} runs of {DURATION} s, load average before {LOADAVG})"]
                     + spread_report(ours, ref)) + "\n"
    with open(out_path, "w") as f:
        f.write(text)
    sys.stdout.write(text)


def startup_and_rss(kind):
    log(f"{kind}: startup x{STARTUP_TRIALS}, RSS")
    times = []
    rss = {}
    for trial in range(STARTUP_TRIALS):
        d = fresh_dir(f"{kind}-start")
        port_c, port_p = free_port(), free_port()
        client, peer = f"127.0.0.1:{port_c}", f"127.0.0.1:{port_p}"
        path = "/v2/leader" if kind == "ours" else "/v2/members/leader"
        t0 = time.monotonic()
        if kind == "ours":
            srv = Server("ours", "st", spawn([OURS_BIN, "-name", "st", "-addr", client, "-peer-addr", peer,
                                               "-data-dir", d], "ours-start.log"), client, peer)
        else:
            srv = start_ref("st", d, client=client, peer=peer)
        try:
            # Poll every 2 ms: refused connections are cheap and 10 ms would blur a ~10 ms startup.
            wait_until(lambda: request("GET", client, path, timeout=1)[0] == 200, 30, interval=0.002,
                       what=f"{kind} startup")
            times.append((time.monotonic() - t0) * 1000)
            if trial == STARTUP_TRIALS - 1:
                time.sleep(1.0)
                rss["idle"] = srv.rss_kib()
                put_keys(srv, range(RSS_KEYS))
                time.sleep(0.5)
                rss["10k"] = srv.rss_kib()
        finally:
            kill(srv.proc)
    log(f"  {kind} startup ms {', '.join(f'{t:.0f}' for t in times)}; RSS {rss}")
    return {"startup": statistics.median(times), "startup_all": times, **rss}


# ---------------------------------------------------------------- report

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "–"


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def report(ours, ref, meta):
    lines = []
    add = lines.append
    add("# etcd benchmark: ours vs etcd 3.4 (v2 API)")
    add("")
    add(meta)
    add("")
    add("## Throughput and latency")
    add("")
    add("| scenario | clients | ours req/s | ours p50 ms | ours p99 ms | ref req/s | ref p50 ms | ref p99 ms "
        "| req/s ours/ref | p50 ours/ref | ours srv/gen CPU % | ref srv/gen CPU % |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for n in MACHINES:
        group = "single" if n == 1 else f"cluster{n}"
        where = "1 machine" if n == 1 else f"{n} machines, via leader"
        rows += [(f"{where}: PUT", group, "write1", 1), (f"{where}: PUT", group, "write64", 64),
                 (f"{where}: GET", group, "read64", 64)]
    for label, group, key, conns in rows:
        o = ours.get(group, {}).get(key)
        r = ref.get(group, {}).get(key)
        cells = [label, str(conns)]
        for x in (o, r):
            cells += [fmt(x and x["rps"], ".0f"), fmt(x and x["p50"], ".2f"), fmt(x and x["p99"], ".2f")]
        cells += [ratio(o and o["rps"], r and r["rps"]), ratio(o and o["p50"], r and r["p50"])]
        for x in (o, r):
            cells.append(f"{x['srv_cpu']:.0f} / {x['gen_cpu']:.0f}" if x else "–")
        add("| " + " | ".join(cells) + " |")
    add("")
    add("## Failover, startup, memory")
    add("")
    add("| measure | ours | ref | ours/ref |")
    add("|---|---:|---:|---:|")

    def fo(res, i):
        xs = res.get("cluster3", {}).get("failover") or []
        return statistics.median(x[i] for x in xs) if xs else None

    def all_fo(res, i):
        xs = res.get("cluster3", {}).get("failover") or []
        return " (" + ", ".join(f"{x[i]:.0f}" for x in xs) + ")" if xs else ""

    for label, i in (("failover: kill -9 leader → survivor names new leader (ms, median; trials)", 0),
                     ("failover: kill -9 leader → first successful write (ms, median; trials)", 1)):
        a, b = fo(ours, i), fo(ref, i)
        add(f"| {label} | {fmt(a, '.0f')}{all_fo(ours, i)} | {fmt(b, '.0f')}{all_fo(ref, i)} | {ratio(a, b)} |")
    so, sr = ours.get("start", {}), ref.get("start", {})
    add(f"| startup: exec → first 200 on leader endpoint (ms, median of {STARTUP_TRIALS}) "
        f"| {fmt(so.get('startup'), '.0f')} | {fmt(sr.get('startup'), '.0f')} "
        f"| {ratio(so.get('startup'), sr.get('startup'))} |")
    for key, label in (("idle", "RSS idle (MiB)"), ("10k", f"RSS after {RSS_KEYS // 1000}k keys (MiB)")):
        a = so.get(key) and so[key] / 1024
        b = sr.get(key) and sr[key] / 1024
        add(f"| {label} | {fmt(a, '.1f')} | {fmt(b, '.1f')} | {ratio(a, b)} |")
    ceil = ours.get("single", {}).get("ceiling")
    rceil = ref.get("single", {}).get("ceiling")
    add("")
    add("## Is the generator the bottleneck?")
    add("")
    add(f"- Ceiling: the same wrk/Lua generator, 64 connections, `GET /version` (the cheapest request): "
        f"{fmt(ceil and ceil['rps'], '.0f')} req/s against ours, {fmt(rceil and rceil['rps'], '.0f')} against ref. "
        f"A scenario well below the ceiling was not held back by the generator.")
    saturation = []
    groups = ["single"] + [f"cluster{n}" for n in MACHINES if n > 1]
    for k, res in (("ours", ours), ("ref", ref)):
        for g in groups:
            for s_, x in res.get(g, {}).items():
                if isinstance(x, dict) and "gen_cpu" in x and s_ != "ceiling":
                    threads = 1 if s_.endswith("1") else min(CORES, 64)
                    saturation.append((x["gen_cpu"] / threads, x["gen_cpu"] * 1e4 / max(x["rps"], 1), k, g, s_))
    if saturation:
        worst = max(saturation)
        add(f"- wrk's busiest scenario ({worst[2]} {worst[3]} {worst[4]}) kept its threads {worst[0]:.0f}% busy "
            f"({worst[1]:.0f} µs of wrk CPU per request); a saturated generator would sit near 100%.")
    add(f"- CPU columns: server(s) / wrk CPU during the run, % of one core ({CORES} cores = {CORES * 100}%).")
    bad = [(k, g, s) for k, res in (("ours", ours), ("ref", ref)) for g in groups
           for s, x in res.get(g, {}).items() if isinstance(x, dict) and x.get("bad")]
    add("- Answers other than 200/201 (or socket errors/timeouts) during measured runs: "
        + ("none." if not bad else ", ".join(f"{k} {g} {s}: {ours_or(k, ours, ref)[g][s]['bad']}"
                                             for k, g, s in bad)))
    lines += spread_report(ours, ref)
    return "\n".join(lines) + "\n"


def ours_or(k, ours, ref):
    return ours if k == "ours" else ref


def main():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    out_path = sys.argv[1]
    t_start = time.monotonic()
    ours, ref = {}, {}
    notes = []
    kinds = ["ours", "ref"] if REF_BIN else ["ours"]
    if os.environ.get("BENCH_ONLY") == "reads":
        return reads_only(kinds, out_path)
    try:
        if 1 in MACHINES:
            for kind, r in single_machine(kinds).items():
                (ours if kind == "ours" else ref)["single"] = r
        for n in (m for m in MACHINES if m > 1):
            trials = FAILOVER_TRIALS if (EXTRAS and n == 3) else 0
            for kind, r in cluster(kinds, n, trials).items():
                (ours if kind == "ours" else ref)[f"cluster{n}"] = r
                if "error" in r:
                    notes.append(f"Reference {n}-machine cluster not measured: {r['error']}.")
        if 3 in MACHINES:
            for kind, r in spread_reads(kinds).items():
                (ours if kind == "ours" else ref)["spread"] = r
        if EXTRAS:
            ours["start"] = startup_and_rss("ours")
            if REF_BIN:
                ref["start"] = startup_and_rss("ref")
    except BaseException as e:
        cleanup(failed=not isinstance(e, (SystemExit, KeyboardInterrupt)))  # interrupted: no log dump
        raise
    cleanup()
    ref_ver = ""
    if REF_BIN:
        v = subprocess.run([REF_BIN, "--version"], capture_output=True, text=True).stdout.splitlines()
        ref_ver = v[0] if v else "etcd 3.4"
    meta = "\n".join([
        f"- When: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {CORES} cores "
        f"({cpu_model()}); load generator and servers share the machine, all on loopback; "
        f"data dirs on {fs_type(WORKDIR_PARENT)} ({WORKDIR_PARENT}); load average before the run {LOADAVG}.",
        f"- Ours: `{OURS_BIN}` (defaults: heartbeat 50 ms, election timeout 200 ms). "
        + (f"Ref: `{REF_BIN}` {ref_ver}, `--enable-v2=true`, its defaults (heartbeat 100 ms, election 1000 ms)."
           if REF_BIN else "Ref: **not measured** (etcd-server could not be installed)."),
        f"- Load: wrk 4.1 + `scripts/bench.d/load.lua`, keep-alive connections; PUT /v2/keys/bench/<n> "
        f"value=<100 bytes> (each key new), GET of {READ_KEYS} preloaded keys. Each figure: {WARMUP} s warm-up "
        f"(discarded), then {REPEATS} runs of {DURATION} s (ours and ref alternating), median of the runs (latency: median of each run's "
        f"p50/p99). 1 client = 1 wrk thread; 64 clients = {min(CORES, 64)} wrk threads.",
        "- Failover: 3-machine cluster, kill -9 of the leader, pollers every 10 ms on the survivors: "
        "leader endpoint (ours `/v2/leader`, ref `/v2/members/leader`) and PUT (one 307 followed). "
        f"Startup: exec → first 200 on that leader endpoint, polled every 2 ms, fresh data dir.",
        f"- Total bench time {time.monotonic() - t_start:.0f} s; load average after the run "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}. ours and ref runs alternate, so background "
        f"load hits both." + ("" if not notes else " " + " ".join(notes)),
    ])
    text = report(ours, ref, meta)
    with open(out_path, "w") as f:
        f.write(text)
    sys.stdout.write(text)


def fs_type(path):
    """Filesystem type name: fsync costs differ wildly between tmpfs, overlay and ext4.

    From /proc/mounts (the longest mount point holding `path`): `stat -f`
    names ext4 "ext2/ext3", since the three share one magic number."""
    path = os.path.realpath(path)
    best, kind = "", ""
    try:
        with open("/proc/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) < 3:
                    continue
                mount = fields[1].replace("\\040", " ")
                inside = path == mount or path.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) >= len(best):
                    best, kind = mount, fields[2]
    except OSError:
        pass
    return kind or "unknown fs"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
        return m.group(1).strip() if m else "unknown CPU"
    except OSError:
        return "unknown CPU"


if __name__ == "__main__":
    main()
