#!/usr/bin/env python3
"""The system instance under a connection flood, side by side with no flood.

Starts a root `omgd --system --foreground` on a private socket (its own
data directories, the machine's package database), then measures root's
search latency over the socket twice in one run: quiet, and while `nobody`
keeps 300 half-open connections (connected, never saying Hello) at it.
Prints the latencies (median, p95) and omgd's resident memory for both.

  sudo bench/flood.py [path/to/omgd]     (default target/release/omgd)
"""
import os, socket, statistics, struct, subprocess, sys, tempfile, time

OMGD = sys.argv[1] if len(sys.argv) > 1 else "target/release/omgd"
PROTOCOL = 11


def varint(n):
    # bincode's standard varint: < 251 in one byte, else a marker and LE.
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfb" + struct.pack("<H", n)
    return b"\xfc" + struct.pack("<I", n)


def string(s):
    b = s.encode()
    return varint(len(b)) + b


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


HELLO = frame(varint(0) + varint(PROTOCOL) + string("bench"))
# ClientFrame::Request(Request { id, body: Search(SearchRequest { query,
# limit, installed_only, sources: All }) })
def search(i, query):
    return frame(varint(1) + varint(i) + varint(0) + string(query) + varint(20) + b"\x00" + varint(0))


def read_frame(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            raise EOFError
        head += chunk
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            raise EOFError
        body += chunk
    return body


def query_latencies(path, count):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(HELLO)
    read_frame(s)
    out = []
    for i in range(count):
        started = time.perf_counter()
        s.sendall(search(i, "vim"))
        read_frame(s)
        out.append((time.perf_counter() - started) * 1000)
    s.close()
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


FLOOD = r'''
import socket, sys, time
path, held = sys.argv[1], []
end = time.time() + float(sys.argv[2])
while time.time() < end:
    held = [c for c in held if c.fileno() != -1]
    while len(held) < 300:
        c = socket.socket(socket.AF_UNIX)
        try:
            c.connect(path)
        except OSError:
            break
        held.append(c)
    time.sleep(0.2)
    # Connections omgd closed (refused, or timed out without a Hello) are
    # opened again next round.
    alive = []
    for c in held:
        c.setblocking(False)
        try:
            c.recv(1, socket.MSG_PEEK)
            c.close()
        except BlockingIOError:
            alive.append(c)
        except OSError:
            c.close()
    held = alive
'''


def main():
    work = tempfile.mkdtemp(prefix="omg-flood-")
    os.chmod(work, 0o755)
    sock = os.path.join(work, "omgd.sock")
    env = dict(os.environ, OMG_DATA_DIR=f"{work}/data", OMG_CACHE_DIR=f"{work}/cache",
               OMG_CONFIG_DIR=f"{work}/config", OMG_RUNTIME_DIR=f"{work}/run")
    daemon = subprocess.Popen([OMGD, "--system", "--foreground", "--no-dbus", "--socket", sock],
                              env=env, stderr=subprocess.DEVNULL)
    try:
        while not os.path.exists(sock):
            time.sleep(0.05)
        query_latencies(sock, 20)  # warm: the index is built or loaded
        quiet = query_latencies(sock, 300)
        rss_quiet = rss_kib(daemon.pid)
        flood = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                  sys.executable, "-c", FLOOD, sock, "30"])
        time.sleep(2)
        during = query_latencies(sock, 300)
        rss_flood = rss_kib(daemon.pid)
        flood.terminate()
        flood.wait()
        for name, lat, rss in [("quiet", quiet, rss_quiet), ("300 half-open connections", during, rss_flood)]:
            lat.sort()
            print(f"{name:>28}: root's search median {statistics.median(lat):.2f} ms, "
                  f"p95 {lat[int(len(lat) * 0.95)]:.2f} ms; omgd RSS {rss / 1024:.1f} MiB")
    finally:
        daemon.terminate()
        daemon.wait()


main()
