#!/usr/bin/env python3
"""Hostile load against one aex-node on loopback, bounded in count and time:
thousands of connections (idle, slow, garbage, oversized length headers,
truncated frames, valid HELLO followed by garbage, frame floods).
usage: soak.py PORT [CONNECTIONS]"""
import os
import random
import resource
import socket
import struct
import sys
import time

PORT = int(sys.argv[1])
TOTAL = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

HELLO = struct.pack(">IBI", 14, 0x01, 1) + struct.pack(">IHHB", 0x41455831, 1, 1, 0)


def frame(msg_type, body):
    return struct.pack(">IBI", 5 + len(body), msg_type, 7) + body


ATTACKS = [
    lambda: b"",                                         # idle: no HELLO ever
    lambda: os.urandom(random.randint(1, 512)),          # garbage
    lambda: struct.pack(">I", 0xFFFFFFF0),               # huge length header
    lambda: struct.pack(">I", 4000) + b"\x01" * 10,      # oversized pre-HELLO frame
    lambda: HELLO[:7],                                   # truncated HELLO
    lambda: HELLO + os.urandom(64),                      # HELLO, then garbage
    lambda: HELLO + frame(0x99, b"x"),                   # unknown type
    lambda: HELLO + b"".join(frame(0x20, os.urandom(20)) for _ in range(200)),  # flood
    lambda: HELLO + frame(0x10, os.urandom(100)),        # malformed LOAD_MODULE
]

start = time.time()
open_socks = []
sent = 0
errors = 0
for i in range(TOTAL):
    try:
        s = socket.create_connection(("127.0.0.1", PORT), timeout=2)
        s.setblocking(False)
        try:
            s.send(ATTACKS[i % len(ATTACKS)]())
        except (BlockingIOError, OSError):
            pass
        open_socks.append(s)
        sent += 1
    except OSError:
        errors += 1
    if len(open_socks) >= 800:  # keep many open at once, within our own fd budget
        for s in open_socks[:400]:
            s.close()
        del open_socks[:400]
    if time.time() - start > 60:
        break
# Slow connections: a byte at a time, for a while (the pause shapes the
# attack; nothing waits on it).
slow = [socket.create_connection(("127.0.0.1", PORT)) for _ in range(50)]
for b in HELLO[:6]:
    for s in slow:
        try:
            s.send(bytes([b]))
        except OSError:
            pass
    time.sleep(0.2)
for s in open_socks + slow:
    s.close()
print(f"soak: {sent} hostile connections ({errors} refused) in {time.time() - start:.1f} s")
