"""What every benchmark driver here needs around the servers it measures:
free loopback ports, processes started with their output in a log file of
one temp dir, killed and the dir removed on every exit path (with the logs'
last lines shown first when the run failed), one HTTP request that never
raises, and waiting on a condition with a deadline.

Owns: the processes started through `spawn` (and any the driver appends
to CHILDREN) and WORKDIR. Never: touches a process it did not start.
"""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

CHILDREN = []  # every Popen started; killed in cleanup()
_driver = os.path.splitext(os.path.basename(sys.argv[0] or "bench"))[0]
WORKDIR = tempfile.mkdtemp(prefix=f"etcd-{_driver}-")
_ports = set()


def free_port():
    """A loopback port nobody listens on, never handed out twice in one run."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports:
            _ports.add(port)
            return port


def spawn(argv, logname, wrap=None):
    """Starts `wrap + argv` with stdout and stderr appended to WORKDIR/logname."""
    out = open(os.path.join(WORKDIR, logname), "ab")
    p = subprocess.Popen((wrap or []) + argv, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    out.close()
    CHILDREN.append(p)
    return p


def kill(p):
    if p.poll() is None:
        try:
            p.kill()
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def cleanup(failed=False):
    for p in CHILDREN:
        kill(p)
    if failed:  # the logs die with WORKDIR; show their ends first
        for name in sorted(os.listdir(WORKDIR)):
            if name.endswith(".log"):
                with open(os.path.join(WORKDIR, name), errors="replace") as f:
                    tail = f.readlines()[-15:]
                print(f"--- {name} (last lines)\n{''.join(tail)}", file=sys.stderr)
    shutil.rmtree(WORKDIR, ignore_errors=True)


def wait_until(pred, limit, what="a condition", interval=0.01):
    """Polls `pred` every `interval` s until it is true; fails after `limit` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise RuntimeError(f"timed out after {limit}s waiting for {what}")


def request(method, hostport, path, body=None, timeout=1.0, conn=None):
    """(status, text) or (None, error); never raises on network trouble.
    `body` is sent as a form; `conn` reuses a keep-alive connection."""
    own = conn is None
    if own:
        host, port = hostport.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as e:
        if not own:
            conn.close()
        return None, str(e)
    finally:
        if own:
            conn.close()


def leader_peer(kind, client, timeout=1.0):
    """The leader's peer URL as the machine at `client` reports it, or None:
    ours answers /v2/leader, etcd 3.4 ("ref") /v2/members/leader."""
    if kind == "ours":
        st, body = request("GET", client, "/v2/leader", timeout=timeout)
        return body.strip() if st == 200 and body.strip() else None
    st, body = request("GET", client, "/v2/members/leader", timeout=timeout)
    if st != 200:
        return None
    try:
        urls = json.loads(body).get("peerURLs") or []
    except ValueError:
        return None
    return urls[0] if urls else None


def wrk_result(returncode, text):
    """The figures of load.lua's `BENCH k=v ...` line as ints; raises with
    wrk's output when it failed or printed none."""
    m = re.search(r"BENCH (.*)", text)
    if returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({returncode}): {text}")
    return {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def shares(total, n):
    """`total` connections split over `n` wrk processes, the first ones one more."""
    return [total // n + (1 if i < total % n else 0) for i in range(n)]
