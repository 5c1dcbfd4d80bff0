#!/usr/bin/python3
"""Deploys AE's ping and pong native modules on two AE event managers and
measures event round trips, speaking the event managers' wire protocol the
way AE's deployer (reactive-tools, native nodes) does. Used by
bench/ae_compare.sh; not part of aex.

  driver.py ports                      two free base ports P (P and P+1 free)
  driver.py deploy --em1 P1 --em2 P2 --ping-bin B --ping-info J --pong-bin B
                   --pong-info J
  driver.py measure --em1 P1 --ping-info J --samples FILE [--warmup N]
                    [--iterations N] [--rounds R] [--size S]
                                       appends round trips (us) to FILE
  driver.py throughput --em1 P1 --em2 P2 --ping-info J --pong-info J
                       [--events N]    events/s of a burst from ping to pong
  driver.py summarize --samples FILE   prints p50/p99 and RESULT lines
  driver.py reset --em P               kill the modules an event manager runs

Wire format (AE's reactive_net): command = [code u8][len u16][payload],
result = [code u8][len u16][payload], big endian; LoadSM is [3][size u32][exe]
with no u16 length. One TCP connection per command, as the deployer does.
"""

import argparse
import base64
import json
import os
import random
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ADD_CONNECTION, CALL_ENTRYPOINT, LOAD_SM, RESET = 0, 1, 3, 4
ENTRY_SET_KEY = 0
ENC_AES = 0
RESULT_OK = 0
LOOPBACK = "127.0.0.1"


# How long a blast may deliver nothing more before the rest counts as lost.
BLAST_QUIET_S = 10


def free_base():
    """A port P with P and P+1 free on loopback: AE's event manager listens
    on P and its module with id 1 on P+1."""
    for _ in range(200):
        base = random.randrange(20000, 60000)
        socks = []
        try:
            for p in (base, base + 1):
                s = socket.socket()
                s.bind((LOOPBACK, p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    sys.exit("driver.py: no free port pair found")


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("event manager closed the connection")
        buf += chunk
    return buf


def send_command(port, code, payload, raw=False):
    """One command on a fresh connection; returns (result code, payload)."""
    with socket.create_connection((LOOPBACK, port), timeout=30) as s:
        head = struct.pack("!B", code)
        if not raw:
            head += struct.pack("!H", len(payload))
        s.sendall(head + payload)
        code, size = struct.unpack("!BH", recv_exact(s, 3))
        return code, recv_exact(s, size)


def poll_until(attempt, deadline_s, what):
    """Calls attempt() until it returns something other than None, at most
    deadline_s seconds (a loaded machine may be slow: callers pass generous
    deadlines); the short pause between attempts is the poll interval, not a
    wait for anything. Exits naming `what` when the deadline passes."""
    end = time.monotonic() + deadline_s
    while True:
        result = attempt()
        if result is not None:
            return result
        if time.monotonic() > end:
            sys.exit(f"driver.py: {what} (after {deadline_s} s)")
        time.sleep(0.05)


def send_command_when_listening(port, code, payload, raw=False, deadline_s=30):
    """send_command, retried while nothing listens on port yet (a process
    just started). Probing with an empty connection instead would make the
    event manager log an error."""
    def attempt():
        try:
            return send_command(port, code, payload, raw)
        except ConnectionRefusedError:
            return None
    return poll_until(attempt, deadline_s, f"nothing listens on {port}")


class Module:
    def __init__(self, em_port, info_path, binary):
        with open(info_path) as f:
            info = json.load(f)
        self.em_port = em_port
        self.id = info["id"]
        self.key = base64.b64decode(info["key"])
        self.info = info
        self.binary = binary
        self.nonce = 0  # the module's deployment nonce, as reactive-tools keeps it

    def load(self):
        with open(self.binary, "rb") as f:
            exe = f.read()
        code, _ = send_command_when_listening(self.em_port, LOAD_SM,
                                              struct.pack("!I", len(exe)) + exe, raw=True)
        if code != RESULT_OK:
            sys.exit(f"driver.py: LoadSM failed with code {code}")

    def call(self, entry, arg=b""):
        return send_command(self.em_port, CALL_ENTRYPOINT,
                            struct.pack("!HH", self.id, entry) + arg)

    def set_key(self, conn_id, io_index, conn_key, deadline_s=30):
        """reactive-tools' SGXBase.set_key: the connection key sealed under the
        module key, AES-GCM with a zero IV and the deployment nonce in the AD.
        Retried until the freshly spawned module listens."""
        def attempt():
            ad = struct.pack("!BHHH", ENC_AES, conn_id, io_index, self.nonce)
            sealed = AESGCM(self.key).encrypt(b"\0" * 12, conn_key, ad)
            code, _ = self.call(ENTRY_SET_KEY, ad + sealed)
            return True if code == RESULT_OK else None
        poll_until(attempt, deadline_s, f"set_key on module {self.id} never succeeded")
        self.nonce += 1


def connect(from_em, conn_id, to_module, to_em):
    """reactive-tools' Node.connect: tell the sender's event manager where
    events of conn_id go."""
    payload = struct.pack("!HHBH", conn_id, to_module.id, int(from_em == to_em), to_em) + \
        socket.inet_aton(LOOPBACK)
    code, _ = send_command(from_em, ADD_CONNECTION, payload)
    if code != RESULT_OK:
        sys.exit(f"driver.py: AddConnection failed with code {code}")


def tcp_active_opens():
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Tcp:")]
    return int(rows[1][rows[0].index("ActiveOpens")])


def percentile(sorted_us, q):
    # Same rank rule as bench/latency.cc's Summarize.
    i = int(q * (len(sorted_us) - 1) + 0.5)
    return sorted_us[min(i, len(sorted_us) - 1)]


def deploy(a):
    ping = Module(a.em1, a.ping_info, a.ping_bin)
    pong = Module(a.em2, a.pong_info, a.pong_bin)
    ping.load()
    pong.load()

    # Three connections, fresh 16-byte keys, as a descriptor with
    # ping.send_ping -> pong.recv_ping, pong.send_pong -> ping.recv_pong and
    # ping.send_blast -> pong.recv_blast (throughput).
    wiring = [(0, ping, "outputs", "send_ping", pong, "inputs", "recv_ping"),
              (1, pong, "outputs", "send_pong", ping, "inputs", "recv_pong"),
              (2, ping, "outputs", "send_blast", pong, "inputs", "recv_blast")]
    for conn_id, src, src_kind, src_io, dst, dst_kind, dst_io in wiring:
        key = os.urandom(16)
        src.set_key(conn_id, src.info[src_kind][src_io], key)
        dst.set_key(conn_id, dst.info[dst_kind][dst_io], key)
        connect(src.em_port, conn_id, dst, dst.em_port)


def measure(a):
    ping = Module(a.em1, a.ping_info, None)
    start_entry = ping.info["entrypoints"]["start"]
    results_entry = ping.info["entrypoints"]["results"]
    samples = []
    opens = 0
    for r in range(a.rounds):
        warmup = a.warmup if r == 0 else 0
        opens_before = tcp_active_opens()
        code, _ = ping.call(start_entry, struct.pack("!III", warmup, a.iterations, a.size))
        if code != RESULT_OK:
            sys.exit(f"driver.py: start failed with code {code}")
        want = warmup + a.iterations

        def results():
            code, body = ping.call(results_entry)
            if code != RESULT_OK or len(body) < 8:
                sys.exit(f"driver.py: results failed with code {code}")
            done, _ = struct.unpack("!II", body[:8])
            return body if done >= want else None
        body = poll_until(results, 300, f"not all {want} round trips came back (an event was lost)")
        _, n = struct.unpack("!II", body[:8])
        opens += tcp_active_opens() - opens_before
        samples += [v / 1000.0 for v in struct.unpack(f"!{n}I", body[8:8 + 4 * n])]
    with open(a.samples, "a") as f:
        f.write("".join(f"{v:.3f}\n" for v in samples))
        # System-wide counter: other processes' connections add to it.
        f.write(f"# tcp_opens {opens} round_trips {a.rounds * a.iterations + a.warmup}\n")


def throughput(a):
    """ping emits a.events 64-byte events in a loop; pong counts them.
    events/s = delivered / (last arrival - first send), as aex's benchmark
    computes it. A single event before and three after the burst show
    whether the connection still carries events."""
    ping = Module(a.em1, a.ping_info, None)
    pong = Module(a.em2, a.pong_info, None)
    stats_entry = pong.info["entrypoints"]["blast_stats"]

    def stats():
        code, body = pong.call(stats_entry)
        if code != RESULT_OK or len(body) != 12:
            sys.exit(f"driver.py: blast_stats failed with code {code}")
        return struct.unpack("!IQ", body)

    def blast(n):
        """Sends n events; returns (first send, last send returned, delivered,
        last arrival) once all arrived or nothing more did for BLAST_QUIET_S."""
        before, _ = stats()
        code, body = ping.call(ping.info["entrypoints"]["blast"], struct.pack("!I", n))
        if code != RESULT_OK or len(body) != 16:
            sys.exit(f"driver.py: blast failed with code {code}")
        first_send, last_send = struct.unpack("!QQ", body)
        # AE loses events for good (docs/performance.md), so "all arrived" may
        # never come: the wait ends when all did, or when none arrived for
        # BLAST_QUIET_S (generous: a loaded machine stalls for seconds).
        seen = {"got": None, "at": time.monotonic()}

        def settled():
            got, last_arrival = stats()
            if got != seen["got"]:
                seen.update(got=got, at=time.monotonic())
            if got - before >= n or time.monotonic() - seen["at"] >= BLAST_QUIET_S:
                return got, last_arrival
            return None
        got, last_arrival = poll_until(settled, 3600, "a blast kept trickling for an hour")
        return first_send, last_send, got - before, last_arrival

    # One event alone first: the connection works.
    _, _, alone_before, _ = blast(1)
    first_send, last_send, delivered, last_arrival = blast(a.events)
    # Then single events again, each alone on an idle system.
    alone_after = sum(blast(1)[2] for _ in range(3))
    per_s = delivered / max(last_arrival - first_send, 1) * 1e6
    sender_per_s = a.events / max(last_send - first_send, 1) * 1e6
    print(f"AE throughput, 64-byte events, 2 event managers ({a.label}): {per_s:.0f} events/s "
          f"({delivered} of {a.events} delivered); sender {sender_per_s:.0f} events/s; "
          f"single events delivered before the burst {alone_before} of 1, after it "
          f"{alone_after} of 3")
    for key, v in (("events_per_s", per_s), ("sender_per_s", sender_per_s),
                   ("delivered", delivered), ("sent", a.events),
                   ("alone_after", alone_after)):
        print(f"RESULT ae.tput.{a.label}.{key} {v:.6g}")


def summarize(a):
    samples, opens, trips = [], 0, 0
    with open(a.samples) as f:
        for line in f:
            if line.startswith("#"):
                _, _, o, _, t = line.split()
                opens, trips = opens + int(o), trips + int(t)
            else:
                samples.append(float(line))
    samples.sort()
    n = len(samples)
    p50, p99 = percentile(samples, 0.50), percentile(samples, 0.99)
    print(f"AE native event round trip, 2 event managers: "
          f"p50 {p50:.1f} us  p99 {p99:.1f} us  min {samples[0]:.1f} us  (n={n})")
    per_rt = opens / trips
    print(f"TCP connections opened per round trip (system-wide ActiveOpens): {per_rt:.2f}")
    print(f"RESULT ae.rtt.p50_us {p50:.6g}")
    print(f"RESULT ae.rtt.p99_us {p99:.6g}")
    print(f"RESULT ae.rtt.min_us {samples[0]:.6g}")
    print(f"RESULT ae.tcp_opens_per_rtt {per_rt:.6g}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("ports")
    d = sub.add_parser("deploy")
    d.add_argument("--em1", type=int, required=True)
    d.add_argument("--em2", type=int, required=True)
    for m in ("ping", "pong"):
        d.add_argument(f"--{m}-bin", required=True)
        d.add_argument(f"--{m}-info", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--em1", type=int, required=True)
    m.add_argument("--ping-info", required=True)
    m.add_argument("--samples", required=True)
    m.add_argument("--warmup", type=int, default=200)
    m.add_argument("--iterations", type=int, default=2000)
    m.add_argument("--rounds", type=int, default=5)
    m.add_argument("--size", type=int, default=32)
    t = sub.add_parser("throughput")
    t.add_argument("--em1", type=int, required=True)
    t.add_argument("--em2", type=int, required=True)
    t.add_argument("--ping-info", required=True)
    t.add_argument("--pong-info", required=True)
    t.add_argument("--events", type=int, default=5000)
    t.add_argument("--label", default="pool", help="names the RESULT lines")
    sub.add_parser("summarize").add_argument("--samples", required=True)
    rs = sub.add_parser("reset")
    rs.add_argument("--em", type=int, required=True)
    a = p.parse_args()
    if a.cmd == "ports":
        first = free_base()
        second = free_base()
        while abs(second - first) < 2:
            second = free_base()
        print(first, second)
    elif a.cmd == "deploy":
        deploy(a)
    elif a.cmd == "measure":
        if not 0 < a.iterations <= 16380:
            sys.exit("driver.py: --iterations must be 1..16380")
        measure(a)
    elif a.cmd == "throughput":
        throughput(a)
    elif a.cmd == "summarize":
        summarize(a)
    else:
        code, _ = send_command(a.em, RESET, b"")
        sys.exit(0 if code == RESULT_OK else 1)


if __name__ == "__main__":
    main()
