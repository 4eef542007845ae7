"""scripts/bench-memory's driver: RSS after writing many keys, restart time
to the first answer and RSS after the restart, for ours and (in the same
run) Debian's etcd 3.4 with the v2 API; then start-to-first-answer with a
million keys for ours. Prints a markdown table, also written to argv[1].

Environment: MEM_KEYS (200000), MEM_BIG_KEYS (1000000, 0 skips),
MEM_REPEATS (3 fills), MEM_RESTARTS (3 per filled data dir), MEM_CONNS (64).
RSS is read at the last write and again SETTLE_S seconds later (a
snapshot may be under way at the last write).
"""
import os
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import wait_until

OURS_BIN = os.environ["ETCD_BIN"]
REF_BIN = os.environ.get("REF_ETCD_BIN", "")
KEYS = int(os.environ.get("MEM_KEYS", "200000"))
BIG_KEYS = int(os.environ.get("MEM_BIG_KEYS", "1000000"))
REPEATS = int(os.environ.get("MEM_REPEATS", "3"))
RESTARTS = int(os.environ.get("MEM_RESTARTS", "3"))
CONNS = int(os.environ.get("MEM_CONNS", "64"))
SETTLE_S = 5
VALUE = "x" * 100
WORKDIR = tempfile.mkdtemp(prefix="bench-memory-")
LIVE = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, kind, datadir):
        self.kind, self.datadir = kind, datadir
        self.client = f"127.0.0.1:{free_port()}"
        self.peer = f"127.0.0.1:{free_port()}"
        self.proc = None

    def argv(self):
        if self.kind == "ours":
            return [OURS_BIN, "-name", "m1", "-addr", self.client, "-peer-addr", self.peer,
                    "-data-dir", self.datadir]
        return [REF_BIN, "--name", "m1", "--data-dir", self.datadir, "--enable-v2=true",
                "--listen-client-urls", f"http://{self.client}",
                "--advertise-client-urls", f"http://{self.client}",
                "--listen-peer-urls", f"http://{self.peer}",
                "--initial-advertise-peer-urls", f"http://{self.peer}",
                "--initial-cluster", f"m1=http://{self.peer}",
                "--initial-cluster-state", "new", "--initial-cluster-token", "bench-memory"]

    def start(self):
        logf = open(os.path.join(WORKDIR, f"{self.kind}.log"), "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=logf, stderr=logf)
        LIVE.append(self.proc)
        return time.monotonic()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        LIVE.remove(self.proc)

    def status_kib(self, field):
        with open(f"/proc/{self.proc.pid}/status") as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1)) if m else 0


def get_status(hostport, path, timeout=0.5, method="GET", body=b""):
    """The HTTP status of `method path`, or None on any network trouble."""
    host, port = hostport.split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as s:
            s.sendall(f"{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n"
                      f"Content-Type: application/x-www-form-urlencoded\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            head = s.recv(64)
        return int(head.split(b" ", 2)[1])
    except (OSError, ValueError, IndexError):
        return None


def fill(hostport, count):
    """PUT /v2/keys/bench/<n> = 100 bytes for n in [0, count) over CONNS
    keep-alive connections, one request in flight on each, from one thread
    (a selector loop: Python threads would be the bottleneck). Returns
    (seconds, answers other than 200/201)."""
    host, port = hostport.split(":")
    body = ("value=" + VALUE).encode()
    sel = selectors.DefaultSelector()
    next_key, bad, done = 0, 0, 0
    started = time.monotonic()

    def send(conn):
        nonlocal next_key
        if next_key >= count:
            sel.unregister(conn["sock"])
            conn["sock"].close()
            return
        req = (f"PUT /v2/keys/bench/{next_key} HTTP/1.1\r\nHost: {hostport}\r\n"
               f"Content-Type: application/x-www-form-urlencoded\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        next_key += 1
        conn["sock"].sendall(req)

    for _ in range(min(CONNS, count)):
        s = socket.create_connection((host, int(port)))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = {"sock": s, "buf": b""}
        sel.register(s, selectors.EVENT_READ, conn)
        send(conn)
    while done < count:
        for key, _ in sel.select(timeout=30):
            conn = key.data
            chunk = conn["sock"].recv(65536)
            if not chunk:
                raise RuntimeError("server closed a loader connection")
            conn["buf"] += chunk
            while True:
                end = conn["buf"].find(b"\r\n\r\n")
                if end < 0:
                    break
                head = conn["buf"][:end].decode("latin-1")
                m = re.search(r"(?im)^content-length:\s*(\d+)", head)
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(conn["buf"]) < total:
                    break
                status = int(head.split(" ", 2)[1])
                conn["buf"] = conn["buf"][total:]
                done += 1
                if status not in (200, 201):
                    bad += 1
                send(conn)
                if conn["sock"].fileno() < 0:
                    break
    return time.monotonic() - started, bad


def first_answer(srv, started):
    """Seconds from exec to the first 200 for a key written before."""
    wait_until(lambda: get_status(srv.client, "/v2/keys/bench/0", timeout=1) == 200,
               120, f"{srv.kind} to answer", interval=0.002)
    return time.monotonic() - started


def mib(kib):
    return kib / 1024


def trial(kind, keys, restarts):
    """One fresh data dir: fill, RSS, then `restarts` restarts."""
    srv = Server(kind, tempfile.mkdtemp(prefix=kind + "-", dir=WORKDIR))
    srv.start()
    # Ready means a write succeeds (a machine answers reads before it leads).
    wait_until(lambda: get_status(srv.client, "/v2/keys/ready", 2, "PUT", b"value=1") in (200, 201),
               30, f"{kind} to take a write")
    seconds, bad = fill(srv.client, keys)
    if bad:
        raise RuntimeError(f"{kind}: {bad} writes were not answered 200/201")
    out = {"fill_s": seconds, "rss": mib(srv.status_kib("VmRSS"))}
    # A snapshot may be under way at the last write; a few idle seconds
    # later what is resident is what the keys keep.
    time.sleep(SETTLE_S)
    out["rss_idle"] = mib(srv.status_kib("VmRSS"))
    out["hwm"] = mib(srv.status_kib("VmHWM"))
    log(f"  {kind}: {keys} keys in {seconds:.1f} s; RSS {out['rss']:.0f} MiB, "
        f"{out['rss_idle']:.0f} MiB {SETTLE_S} s later, peak {out['hwm']:.0f} MiB")
    times, rss_after = [], []
    for _ in range(restarts):
        srv.stop()
        started = srv.start()
        times.append(first_answer(srv, started))
        rss_after.append(mib(srv.status_kib("VmRSS")))
        log(f"  {kind}: restart to first answer {times[-1]:.3f} s; RSS {rss_after[-1]:.0f} MiB")
    out["restart_s"] = times
    out["rss_restart"] = rss_after
    out["hwm_restart"] = mib(srv.status_kib("VmHWM"))
    srv.stop()
    shutil.rmtree(srv.datadir, ignore_errors=True)
    return out


def med(trials, field):
    values = []
    for t in trials:
        v = t[field]
        values.extend(v if isinstance(v, list) else [v])
    return statistics.median(values)


def main():
    kinds = ["ours"] + (["ref"] if REF_BIN else [])
    results = {kind: [] for kind in kinds}
    for r in range(REPEATS):
        for kind in kinds:
            log(f"run {r + 1}/{REPEATS}, {kind}, {KEYS} keys")
            results[kind].append(trial(kind, KEYS, RESTARTS))
    big = None
    if BIG_KEYS:
        log(f"ours, {BIG_KEYS} keys")
        big = trial("ours", BIG_KEYS, RESTARTS)

    rows = [("fill time (s)", "fill_s", "{:.1f}"),
            ("RSS at the last write (MiB)", "rss", "{:.0f}"),
            (f"RSS {SETTLE_S} s after the last write (MiB)", "rss_idle", "{:.0f}"),
            ("peak RSS while writing (MiB, VmHWM)", "hwm", "{:.0f}"),
            ("restart to first answer (s)", "restart_s", "{:.2f}"),
            ("RSS after a restart (MiB)", "rss_restart", "{:.0f}"),
            ("peak RSS during restarts (MiB, VmHWM)", "hwm_restart", "{:.0f}")]
    lines = [f"{KEYS} keys of 100 B on one machine, medians of {REPEATS} fills "
             f"and {REPEATS * RESTARTS} restarts:", ""]
    if "ref" in results:
        lines += ["| | ours | etcd 3.4 | ratio |", "|---|---:|---:|---:|"]
    else:
        lines += ["| | ours |", "|---|---:|"]
    for label, field, fmt in rows:
        ours = med(results["ours"], field)
        line = f"| {label} | {fmt.format(ours)} |"
        if "ref" in results:
            ref = med(results["ref"], field)
            line += f" {fmt.format(ref)} | {ours / ref:.2f}× |"
        lines.append(line)
    if big:
        lines += ["", f"{BIG_KEYS} keys, ours: fill {big['fill_s']:.0f} s, RSS {big['rss']:.0f} MiB "
                  f"at the last write, {big['rss_idle']:.0f} MiB {SETTLE_S} s later (peak {big['hwm']:.0f}); restart to first answer "
                  f"{statistics.median(big['restart_s']):.2f} s (median of {RESTARTS}: "
                  + ", ".join(f"{t:.2f}" for t in big["restart_s"])
                  + f"), RSS after {statistics.median(big['rss_restart']):.0f} MiB"]
    table = "\n".join(lines) + "\n"
    print(table)
    with open(sys.argv[1], "w") as f:
        f.write(table)


if __name__ == "__main__":
    try:
        main()
    finally:
        for proc in list(LIVE):
            proc.kill()
            proc.wait()
        shutil.rmtree(WORKDIR, ignore_errors=True)
