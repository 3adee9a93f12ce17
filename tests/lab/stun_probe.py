#!/usr/bin/env python3
"""STUN Binding probes from many source ports, for running inside a namespace (ip netns exec NS ...).

    stun_probe.py --server ADDR [--port 3478] [--flows N] [--timeout S]

Each flow is its own UDP socket (its own source port, so its own ECMP hash); each sends one Binding request
(up to 3 tries) and checks the answer's XOR-MAPPED-ADDRESS is the socket's own address and port. Prints one
JSON line: {"flows": N, "answered": A, "mapped_ok": M, "bad": [...]}.
"""

import argparse
import json
import os
import socket
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402

ATTR_XOR_MAPPED_ADDRESS = 0x0020


def xor_mapped(data: bytes):
    v = h.stun_attrs(data).get(ATTR_XOR_MAPPED_ADDRESS)
    if v is None or len(v) < 8:
        return None
    family, xport = struct.unpack("!xBH", v[:4])
    port = xport ^ (h.MAGIC >> 16)
    if family == 1:
        addr = bytes(a ^ b for a, b in zip(v[4:8], struct.pack("!I", h.MAGIC)))
        return socket.inet_ntop(socket.AF_INET, addr), port
    key = struct.pack("!I", h.MAGIC) + data[8:20]
    addr = bytes(a ^ b for a, b in zip(v[4:20], key))
    return socket.inet_ntop(socket.AF_INET6, addr), port


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=3478)
    ap.add_argument("--flows", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1.0)
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.server else socket.AF_INET
    answered, ok, bad = 0, 0, []
    for _ in range(a.flows):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(a.timeout)
        s.connect((a.server, a.port))
        own = s.getsockname()[:2]
        try:
            for _ in range(3):
                req = h.binding_request()
                s.send(req)
                try:
                    data = s.recv(2048)
                except socket.timeout:
                    continue
                if h.answers(data, req):
                    answered += 1
                    got = xor_mapped(data)
                    if got == own:
                        ok += 1
                    else:
                        bad.append("%s, own %s" % (got, own))
                    break
        finally:
            s.close()
    print(json.dumps({"flows": a.flows, "answered": answered, "mapped_ok": ok, "bad": bad[:5]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
