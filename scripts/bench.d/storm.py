#!/usr/bin/env python3
"""Driver of scripts/storm: a burst of new connections against our etcd and
Debian's etcd 3.4 in the same run.

One client, one thread: it opens N non-blocking connections one after
another as fast as it can, never waiting for one before opening the next;
between two opens it only looks (without blocking) for connections that
became ready, sends each whose handshake completed `GET /v2/keys/storm`
with `Connection: close`, and reads what has arrived. A connection whose
handshake took 1 s or more waited for a SYN retry: its first SYN was
dropped because the accept queue was full. "Waited >= 1 s" counts the
connections whose whole exchange (connect to the last byte) took that long.

Owns: the servers it starts (through hostile.py). Never: retries a
connection, or counts one as answered without a 200.
"""

import errno
import os
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

REQUEST = b"GET /v2/keys/storm HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
DEADLINE_S = 60.0
SYN_RETRY_S = 1.0


class Conn:
    __slots__ = ("sock", "t0", "t_conn", "t_done", "buf", "status", "error")

    def __init__(self, sock, t0):
        self.sock, self.t0 = sock, t0
        self.t_conn = self.t_done = None
        self.buf = bytearray()
        self.status = None
        self.error = None


def serve_ready(ep, live, done, timeout):
    """Handles every connection that is ready now (or within `timeout`)."""
    for fd, _ev in ep.poll(timeout):
        c = live.get(fd)
        if c is None:
            continue
        now = time.perf_counter()
        finished = False
        if c.t_conn is None:
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                c.error, finished = os.strerror(err), True
            else:
                c.t_conn = now
                try:
                    c.sock.send(REQUEST)
                    ep.modify(fd, select.EPOLLIN)
                except OSError as e:
                    c.error, finished = str(e), True
        else:
            try:
                chunk = c.sock.recv(65536)
            except BlockingIOError:
                chunk = None
            except OSError as e:
                c.error, chunk, finished = str(e), None, True
            if chunk:
                c.buf += chunk
            elif chunk == b"":
                finished = True
                c.t_done = now
                line = bytes(c.buf.split(b"\r\n", 1)[0])
                parts = line.split(b" ")
                c.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        if finished:
            ep.unregister(fd)
            c.sock.close()
            done.append(live.pop(fd))


def storm(hostport, n):
    host, port = hostport.split(":")
    addr = (host, int(port))
    ep = select.epoll(n + 16)
    live = {}
    done = []
    began = time.perf_counter()
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        c = Conn(s, time.perf_counter())
        err = s.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            c.error = os.strerror(err)
            s.close()
            done.append(c)
            continue
        live[s.fileno()] = c
        ep.register(s.fileno(), select.EPOLLOUT)
        serve_ready(ep, live, done, 0)
    burst_s = time.perf_counter() - began
    deadline = began + DEADLINE_S
    while live and time.perf_counter() < deadline:
        serve_ready(ep, live, done, 0.5)
    total_s = time.perf_counter() - began
    for c in live.values():
        c.error = "no answer before the deadline"
        c.sock.close()
        done.append(c)
    ep.close()
    answered = [c for c in done if c.status == 200]
    handshakes = [c.t_conn - c.t0 for c in done if c.t_conn is not None]
    whole = [c.t_done - c.t0 for c in answered]
    errors = {}
    for c in done:
        if c.status != 200:
            why = c.error or f"status {c.status}"
            errors[why] = errors.get(why, 0) + 1
    return {
        "n": n,
        "answered": len(answered),
        "burst_s": burst_s,
        "total_s": (max(c.t_done for c in answered) - began) if answered else total_s,
        "syn_retries": sum(1 for t in handshakes if t >= SYN_RETRY_S),
        "waited_1s": sum(1 for t in whole if t >= SYN_RETRY_S),
        "lat": h.summary_ms(whole),
        "errors": errors,
    }


def listen_backlog(hostport):
    """The listener's accept-queue length as the kernel reports it (ss Send-Q)."""
    try:
        out = subprocess.run(["ss", "-ltnH", f"sport = :{hostport.split(':')[1]}"],
                             capture_output=True, text=True, timeout=5).stdout.split()
        return int(out[2]) if len(out) > 2 else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def measure(kind, n):
    srv = h.start_ours("storm") if kind == "ours" else h.start_ref("storm")
    h.wait_ready(srv)
    st, body = h.request("PUT", srv.client, "/v2/keys/storm", "value=calm")
    if st not in (200, 201):
        raise RuntimeError(f"{kind}: PUT /v2/keys/storm answered {st}: {body}")
    backlog = listen_backlog(srv.client)
    time.sleep(0.5)
    h.log("storm", f"{kind}: {n} connections")
    r = storm(srv.client, n)
    r["backlog"] = backlog
    r["kind"] = kind
    h.kill(srv.proc)
    return r


def report(results):
    print()
    print("| server | connections | answered 200 | burst opened in | all answered in | waited >= 1 s (SYN retry) | per connection p50 / p99 / max ms | listen backlog |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        name = "ours" if r["kind"] == "ours" else "etcd 3.4"
        lat = r["lat"]
        print(f"| {name} | {r['n']} | {r['answered']} | {r['burst_s']:.2f} s | {r['total_s']:.2f} s "
              f"| {r['waited_1s']} ({r['syn_retries']} handshakes) "
              f"| {lat['p50']:.1f} / {lat['p99']:.1f} / {lat['max']:.0f} | {r['backlog']} |")
    for r in results:
        if r["errors"]:
            print(f"{r['kind']}: not answered: {r['errors']}")


def main():
    ci = "--ci" in sys.argv[1:]
    n = int(os.environ.get("STORM_CONNECTIONS", "1000" if ci else "10000"))
    kinds = ["ours"] + (["ref"] if h.have_ref() and not ci else [])
    results = [measure(kind, n) for kind in kinds]
    report(results)
    ours = results[0]
    if ours["answered"] != n:
        print(f"storm: FAILED: {n - ours['answered']} of {n} connections got no 200", file=sys.stderr)
        return 1
    if ci:
        print(f"storm --ci: all {n} connections answered ({ours['waited_1s']} waited >= 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(h.run_main(main))
