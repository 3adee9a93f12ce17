#!/usr/bin/env python3
"""Measures the size of every RFC 5780 reply against its request on the real binary (docs/security.md).

    sudo scripts/rfc5780_amplification.py [build/app/stunbox/stunbox]

Runs stunbox in socket mode inside a private network namespace whose loopback
holds 198.18.0.2/.3 and 2001:2::2/::3 (one RFC 5780 pair per family), sends
each request kind to the primary endpoint and prints a Markdown table: request
and response sizes as UDP payload and at the IP layer (+ 20/40 and 8 bytes),
and their ratio. The namespace is removed at the end.
"""

import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
sys.dont_write_bytecode = True
import stun_blackbox as bb  # noqa: E402

NS = "sbx-amp-%d" % os.getpid()


def inside() -> int:
    exe = sys.argv[2]
    pairs = ('[{primary: "198.18.0.2:3478", alternate: "198.18.0.3:3479"},'
             ' {primary: "[2001:2::2]:3478", alternate: "[2001:2::3]:3479"}]')
    srv = subprocess.Popen([exe, "--set", "socket.listen=[]", "--set", "control.socket=", "--set",
                            "stun.rfc5780=" + pairs, "--set", "socket.listen=[\"127.0.0.1:3478\"]", "-c", "/dev/null"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in srv.stdout:
            if line.startswith("stunbox: ready"):
                break
        change = lambda f: bb.attr(bb.A_CHANGE_REQUEST, struct.pack("!I", f))  # noqa: E731
        kinds = [
            ("plain", lambda: bb.binding()),
            ("with FINGERPRINT", lambda: bb.binding(fingerprint=True)),
            ("CHANGE-REQUEST change IP and port", lambda: bb.binding(change(6))),
            ("classic (RFC 3489), change IP", lambda: bb.classic_binding(change(4))),
            ("RESPONSE-PORT", lambda: bb.binding(bb.attr(0x0027, struct.pack("!HH", 0, 0)))),
            ("PADDING 64 bytes", lambda: bb.binding(bb.attr(0x0026, bytes(64)))),
            ("RESPONSE-PORT + PADDING (400)", lambda: bb.binding(bb.attr(0x0027, struct.pack("!HH", 9, 0)) +
                                                                 bb.attr(0x0026, bytes(8)))),
        ]
        print("| family | request | req UDP | resp UDP | factor UDP | req IP | resp IP | factor IP |")
        print("|---|---|---|---|---|---|---|---|")
        for fam, host, ip_hdr in ((socket.AF_INET, "198.18.0.2", 20), (socket.AF_INET6, "2001:2::2", 40)):
            for name, make in kinds:
                s = socket.socket(fam, socket.SOCK_DGRAM)
                s.bind(("127.0.0.1" if fam == socket.AF_INET else "::1", 0))
                s.settimeout(1.0)
                req = make()
                if b"\x00\x27\x00\x04\x00\x00" in req:  # RESPONSE-PORT: to this very socket
                    req = req.replace(b"\x00\x27\x00\x04\x00\x00", b"\x00\x27\x00\x04" + struct.pack("!H", s.getsockname()[1]))
                resp = b""
                for _ in range(3):
                    s.sendto(req, (host, 3478))
                    try:
                        resp = s.recv(4096)
                        break
                    except socket.timeout:
                        continue
                s.close()
                ru, pu = len(req), len(resp)
                ri, pi = ru + 8 + ip_hdr, pu + 8 + ip_hdr
                print("| %s | %s | %d | %d | %.2f | %d | %d | %.2f |" % (
                    "IPv4" if fam == socket.AF_INET else "IPv6", name, ru, pu, pu / ru, ri, pi, pi / ri))
    finally:
        srv.terminate()
        srv.wait(5)
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--inside":
        return inside()
    exe = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build", "app", "stunbox",
                                                                              "stunbox"))
    if os.geteuid() != 0:
        print("rfc5780_amplification: needs root (a private network namespace)", file=sys.stderr)
        return 1
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        run = lambda *a: subprocess.run(["ip", "-n", NS] + list(a), check=True)  # noqa: E731
        run("link", "set", "lo", "up")
        for a in ("198.18.0.2/32", "198.18.0.3/32"):
            run("addr", "add", a, "dev", "lo")
        for a in ("2001:2::2/128", "2001:2::3/128"):
            run("addr", "add", a, "dev", "lo", "nodad")
        time.sleep(0.2)
        return subprocess.run(["ip", "netns", "exec", NS, sys.executable, os.path.abspath(__file__), "--inside",
                               exe]).returncode
    finally:
        subprocess.run(["ip", "netns", "del", NS])


if __name__ == "__main__":
    sys.exit(main())
