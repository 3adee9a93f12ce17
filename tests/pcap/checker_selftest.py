#!/usr/bin/env python3
"""Proves pcap_test.py's checks can fail: runs it once for real, then re-checks mutated copies of the results.

Usage: checker_selftest.py --stunbox PATH
Each mutation (a reply missing, duplicated, with a wrong mapped address, a bad
checksum, a miscounted drop reason, ...) must make `pcap_test.py --check-only`
exit 1 with the expected failure text. Exit 0 when every mutation is caught.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from packets import (ETH_IPV4, PROTO_UDP, inet_csum, parse_frame, pseudo_v4, read_pcap,  # noqa: E402
                     write_pcap)

CHECKER = os.path.join(HERE, "pcap_test.py")


def first_stun_v4(frames: list[bytes]) -> int:
    for i, raw in enumerate(frames):
        r = parse_frame(raw)
        if r.ethertype == ETH_IPV4 and r.proto == PROTO_UDP and r.vlan is None:
            return i
    raise SystemExit("checker_selftest: no IPv4 STUN reply in out0.pcap to mutate")


def rewrite_udp_v4(raw: bytes, mutate) -> bytes:
    """Applies mutate(udp bytearray) to the UDP segment and recomputes its checksum."""
    r = parse_frame(raw)
    l3_off = len(raw) - len(r.l3)
    u_off = l3_off + r.ihl
    seg = bytearray(r.ip_payload)
    mutate(seg)
    seg[6:8] = b"\x00\x00"
    c = inet_csum(pseudo_v4(r.ip_src, r.ip_dst, PROTO_UDP, len(seg)) + bytes(seg)) or 0xFFFF
    seg[6:8] = struct.pack("!H", c)
    return raw[:u_off] + bytes(seg) + raw[u_off + len(seg):]


def mutations():
    def drop_reply(d):
        fr = read_pcap(f"{d}/out0.pcap")
        del fr[first_stun_v4(fr)]
        write_pcap(f"{d}/out0.pcap", fr)

    def duplicate_reply(d):
        fr = read_pcap(f"{d}/out0.pcap")
        fr.append(fr[first_stun_v4(fr)])
        write_pcap(f"{d}/out0.pcap", fr)

    def wrong_mapped_address(d):
        fr = read_pcap(f"{d}/out0.pcap")
        i = first_stun_v4(fr)

        def flip(seg):  # last byte of the XOR-d IPv4 address (first attribute)
            seg[8 + 20 + 4 + 7] ^= 0x01

        fr[i] = rewrite_udp_v4(fr[i], flip)
        write_pcap(f"{d}/out0.pcap", fr)

    def bad_udp_checksum(d):
        fr = read_pcap(f"{d}/out0.pcap")
        i = first_stun_v4(fr)
        raw = bytearray(fr[i])
        raw[-1] ^= 0xFF  # payload byte changed, checksum left as it was
        fr[i] = bytes(raw)
        write_pcap(f"{d}/out0.pcap", fr)

    def wrong_port(d):
        fr = read_pcap(f"{d}/out0.pcap")
        i = first_stun_v4(fr)

        def swap_back(seg):
            seg[0:2] = struct.pack("!H", 3479)

        fr[i] = rewrite_udp_v4(fr[i], swap_back)
        write_pcap(f"{d}/out0.pcap", fr)

    def miscounted_drop(d):
        path = f"{d}/stdout.txt"
        text = open(path).read()
        lines = text.splitlines(keepends=True)
        for k, line in enumerate(lines):
            if line.strip().startswith("drop ipv4_fragment"):
                lines[k] = line.replace(line.split()[-1], "1")
        open(path, "w").write("".join(lines))

    def nonzero_exit(d):
        open(f"{d}/rc.txt", "w").write("1")

    def reply_on_wrong_port(d):
        a, b = read_pcap(f"{d}/out0.pcap"), read_pcap(f"{d}/out1.pcap")
        i = first_stun_v4(a)
        b.append(a.pop(i))
        write_pcap(f"{d}/out0.pcap", a)
        write_pcap(f"{d}/out1.pcap", b)

    return [
        ("a reply missing", drop_reply, "replies, expected exactly 1"),
        ("a reply sent twice", duplicate_reply, "2 replies, expected exactly 1"),
        ("wrong XOR-MAPPED-ADDRESS", wrong_mapped_address, "XOR-MAPPED-ADDRESS"),
        ("bad UDP checksum", bad_udp_checksum, "UDP checksum"),
        ("ports not swapped", wrong_port, "not swapped"),
        ("a drop reason miscounted", miscounted_drop, "drop ipv4_fragment = 1, expected 2"),
        ("non-zero exit", nonzero_exit, "exit code 1"),
        ("reply on the wrong port", reply_on_wrong_port, "reply left on port 1"),
    ]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox", required=True)
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="stunbox-pcap-selftest-")
    try:
        real = subprocess.run([sys.executable, CHECKER, "--stunbox", args.stunbox, "--keep", f"{base}/real"],
                              capture_output=True, text=True, timeout=150)
        if real.returncode != 0:
            print(real.stdout + real.stderr)
            print("checker_selftest: the unmutated run must pass first")
            return 1
        failed = 0
        for name, mutate, expect in mutations():
            d = f"{base}/{name.replace(' ', '_')}"
            shutil.copytree(f"{base}/real", d)
            mutate(d)
            # tshark is slow: only the address mutation also checks that tshark disagrees.
            extra = [] if "XOR" in name else ["--no-tshark"]
            res = subprocess.run([sys.executable, CHECKER, "--check-only", d] + extra, capture_output=True,
                                 text=True, timeout=120)
            if "XOR" in name and not any(l.startswith("FAIL tshark:") for l in res.stdout.splitlines()):
                res.returncode = 2  # tshark must see the wrong address too
            caught = res.returncode == 1 and any(expect in line for line in res.stdout.splitlines()
                                                 if line.startswith("FAIL"))
            print(f"{'ok  ' if caught else 'MISS'} mutation: {name}")
            if not caught:
                failed += 1
                print(res.stdout[-2000:])
        print(f"checker_selftest: {len(mutations()) - failed}/{len(mutations())} mutations caught")
        return 1 if failed else 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
