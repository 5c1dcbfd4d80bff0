#!/usr/bin/env python3
"""A TCP proxy on loopback that the reliability tests can kill: it stands for
the network between two nodes. It can also misbehave on the peer link, once
each, picking the LINK_EVENT by the counter of the sealed event it carries
(docs/protocol.md: LINK_EVENT = u64 seq || u32 module || u32 conn ||
u32 len || sealed, sealed = u64 counter || ...), so that resends do not
shift which event is hit:
  --dup-counter N       forward that LINK_EVENT twice
  --drop-counter N      swallow it, keeping the TCP session
  --inject-ack-counter N  after forwarding it, send the sender an ACK for a
                        sequence number it never sent
Each fault applied is logged as one line "FAULT <kind> <counter>" on stdout.
usage: proxy.py LISTEN_PORT TARGET_PORT [fault options]"""
import argparse
import socket
import struct
import sys
import threading

LINK_EVENT, ACK = 0x24, 0x22
IMPOSSIBLE_SEQ = 1 << 40


class Faults:
    def __init__(self, args):
        self.pending = {"dup": args.dup_counter, "drop": args.drop_counter,
                        "inject-ack": args.inject_ack_counter}
        self.lock = threading.Lock()

    def take(self, kind, counter):
        """True once: when `counter` is the one this fault waits for."""
        with self.lock:
            if self.pending.get(kind) != counter:
                return False
            self.pending[kind] = None
        print(f"FAULT {kind} {counter}", flush=True)
        return True


def frames(sock):
    """Yields complete frames (header included) read from sock."""
    buf = b""
    while True:
        data = sock.recv(65536)
        if not data:
            return
        buf += data
        while len(buf) >= 4:
            length = struct.unpack(">I", buf[:4])[0]
            if len(buf) < 4 + length:
                break
            yield buf[:4 + length]
            buf = buf[4 + length:]


def event_counter(frame):
    """The sealed event's counter of a LINK_EVENT frame, else None."""
    if len(frame) < 9 + 28 or frame[4] != LINK_EVENT:
        return None
    return struct.unpack(">Q", frame[9 + 20:9 + 28])[0]


def shut(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def forward(src, dst, dst_lock, back, back_lock, faults):
    """src -> dst frame by frame, applying faults; `back` is the reverse
    direction (towards src), where an injected ACK goes."""
    try:
        for frame in frames(src):
            counter = event_counter(frame)
            if counter is not None and faults.take("drop", counter):
                continue
            copies = 2 if counter is not None and faults.take("dup", counter) else 1
            with dst_lock:
                dst.sendall(frame * copies)
            if counter is not None and faults.take("inject-ack", counter):
                body = struct.pack(">BIQB", ACK, 0, IMPOSSIBLE_SEQ, 0)
                with back_lock:
                    back.sendall(struct.pack(">I", len(body)) + body)
    except OSError:
        pass
    finally:
        shut(src, dst)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("listen_port", type=int)
    p.add_argument("target_port", type=int)
    p.add_argument("--dup-counter", type=int)
    p.add_argument("--drop-counter", type=int)
    p.add_argument("--inject-ack-counter", type=int)
    args = p.parse_args()
    faults = Faults(args)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.listen_port))
    server.listen(16)
    while True:
        client, _ = server.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", args.target_port))
        except OSError:
            client.close()
            continue
        # Whole frames only, under a lock per direction, so that an injected
        # frame never lands in the middle of another.
        to_up, to_client = threading.Lock(), threading.Lock()
        threading.Thread(target=forward, daemon=True,
                         args=(client, upstream, to_up, client, to_client, faults)).start()
        threading.Thread(target=forward, daemon=True,
                         args=(upstream, client, to_client, upstream, to_up, faults)).start()


if __name__ == "__main__":
    sys.exit(main())
