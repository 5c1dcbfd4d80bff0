#!/usr/bin/env python3
"""Speaks the aex wire protocol (docs/protocol.md) to a node, as anyone who
can reach its port could, to show what its command interface refuses.

  node_probe.py claim HOST PORT DEVICE
      LOAD_MODULE claiming DEVICE; prints the result code (OK, NOT_FOUND,
      PERMISSION_DENIED, ...).
  node_probe.py sweep HOST PORT MODULE_ID SECRET
      Sends every message type (but UNLOAD_MODULE and RESET) with a payload
      addressed to MODULE_ID that asks for the device ("GET"), each on its own
      connection, and fails if any answer contains SECRET.
  node_probe.py oversize HOST PORT LENGTH
      Announces a LOAD_MODULE frame of LENGTH bytes (a module binary over
      the node's limit), sends 64 bytes of it; prints "closed" when the node
      ends the connection without an answer.

Nodes use mutual TLS by default: with PROBE_TLS_DIR set to a deployment's
.aex/tls directory the probe presents that deployment's deployer certificate,
i.e. it is the most privileged client a node has."""
import os
import socket
import ssl
import struct
import sys

CODES = ["OK", "INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
         "AUTH_FAILED", "REPLAY", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "TIMEOUT",
         "FAILED_PRECONDITION", "INTERNAL", "IO", "PROTOCOL", "DISABLED"]


def frame(mtype, rid, payload):
    return struct.pack(">IBI", 5 + len(payload), mtype, rid) + payload


def connect(host, port):
    s = socket.create_connection((host, port), timeout=2)
    tls_dir = os.environ.get("PROBE_TLS_DIR")
    if tls_dir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(os.path.join(tls_dir, "ca.pem"))
        ctx.load_cert_chain(os.path.join(tls_dir, "deployer.pem"),
                            os.path.join(tls_dir, "deployer.key"))
        s = ctx.wrap_socket(s, server_hostname=host)
    s.sendall(frame(0x01, 1, struct.pack(">IHHB", 0x41455831, 1, 1, 0)))
    body = read_frame(s)
    assert body and body[0] == 0x02, "no HELLO_ACK"
    return s


def read_frame(s):
    try:
        head = b""
        while len(head) < 4:
            chunk = s.recv(4 - len(head))
            if not chunk:
                return None
            head += chunk
        (n,) = struct.unpack(">I", head)
        body = b""
        while len(body) < n:
            chunk = s.recv(n - len(body))
            if not chunk:
                return None
            body += chunk
        return body
    except socket.timeout:
        return None


def result(body):
    if body is None:
        return "closed-or-silent", b""
    if body[0] != 0x03:
        return f"type-{body[0]:#x}", body
    code, mlen = struct.unpack(">HH", body[5:9])
    return CODES[code] if code < len(CODES) else str(code), body[9:]


def claim(host, port, device):
    s = connect(host, port)
    name = b"probe"
    binary = b"#!/bin/false\n"
    payload = (struct.pack(">H", len(name)) + name + b"\x00" +
               struct.pack(">H", len(device)) + device.encode() +
               struct.pack(">I", len(binary)) + binary)
    s.sendall(frame(0x10, 2, payload))
    code, rest = result(read_frame(s))
    print(code)


def oversize(host, port, length):
    s = connect(host, port)
    s.settimeout(60)
    s.sendall(struct.pack(">IBI", length, 0x10, 2) + b"\0" * 64)
    code, _ = result(read_frame(s))
    print("closed" if code == "closed-or-silent" else code)


def sweep(host, port, module_id, secret):
    secret = secret.encode()
    seen = {}
    for t in range(256):
        if t in (0x11, 0x19):  # would unload the driver or reset the node
            continue
        s = connect(host, port)
        s.settimeout(0.3)
        data = b"GET\n"
        op = struct.pack(">III", module_id, 0, len(data)) + data
        s.sendall(frame(t, 9, op))
        body = read_frame(s)
        code, rest = result(body)
        if body is not None and secret in body:
            sys.exit(f"FAIL: type {t:#x} answered with the device's value: {body!r}")
        seen[code] = seen.get(code, 0) + 1
        s.close()
    print(" ".join(f"{k}={v}" for k, v in sorted(seen.items())))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "claim":
        claim(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "oversize":
        oversize(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "sweep":
        sweep(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)
