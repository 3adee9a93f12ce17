#!/usr/bin/env python3
"""A small STUN Binding responder for testing stunbox-load, able to misbehave on purpose.

Listens on 127.0.0.1:P and [::1]:P (or --host4/--host6; P chosen free unless --port), prints
"PORT P" once ready, "FIRST" when the first request arrives, and on exit
(stdin closed, SIGTERM, or --lifetime seconds) "SEEN requests distinct_sources".
"""
import argparse
import os
import select
import signal
import socket
import struct
import sys
import time
import zlib

COOKIE = 0x2112A442
MODES = [
    "good",              # correct answer: XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS to classic requests)
    "wrong_xor",         # XOR-MAPPED-ADDRESS with the port off by one
    "wrong_txid",        # transaction id with one bit flipped
    "bad_cookie",        # magic cookie altered
    "drop_half",         # answers every second request only
    "silent",            # never answers
    "bad_fingerprint",   # FINGERPRINT with a wrong CRC
    "fp_not_last",       # FINGERPRINT followed by another attribute
    "legacy_mapped",     # MAPPED-ADDRESS only (RFC 3489 style)
    "legacy_8020",       # 0x8020 XOR-MAPPED-ADDRESS of the drafts only
    "duplicate",         # every answer sent twice
    "error_response",    # Binding Error Response 400
    "no_address",        # success response without any address attribute
    "bad_length",        # header length field one word too long
    "both_forms",        # XOR-MAPPED-ADDRESS and MAPPED-ADDRESS, both right
]


def fingerprint(msg):
    return struct.pack("!HHI", 0x8028, 4, (zlib.crc32(msg) & 0xFFFFFFFF) ^ 0x5354554E)


def addr_value(family, ip, port, xor_key):
    raw = socket.inet_pton(family, ip)
    fam = 0x01 if family == socket.AF_INET else 0x02
    if xor_key is not None:
        port ^= struct.unpack("!H", xor_key[:2])[0]
        raw = bytes(a ^ b for a, b in zip(raw, xor_key))
    return struct.pack("!BBH", 0, fam, port) + raw


def attr(atype, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * pad


def answer(req, family, src, mode, counter):
    if len(req) < 20:
        return []
    mtype, mlen = struct.unpack("!HH", req[:4])
    if mtype != 0x0001 or mlen + 20 != len(req):
        return []
    ident = bytearray(req[4:20])  # cookie + transaction id, or classic 16-byte id
    classic = struct.unpack("!I", req[4:8])[0] != COOKIE
    has_fp = len(req) >= 28 and struct.unpack("!H", req[-8:-6])[0] == 0x8028
    ip, port = src[0], src[1]
    if mode == "drop_half" and counter % 2 == 1:
        return []
    if mode == "silent":
        return []
    if mode == "wrong_txid":
        ident[4] ^= 0x80  # first byte after the cookie: an id this client never sent
    if mode == "bad_cookie":
        ident[0] ^= 0xFF
    key = bytes(ident)
    if mode == "error_response":
        err = struct.pack("!HBB", 0, 4, 0) + b"Bad Request"
        body = attr(0x0009, err)
        return [struct.pack("!HH", 0x0111, len(body)) + key + body]
    attrs = b""
    if mode == "wrong_xor":
        attrs += attr(0x0020, addr_value(family, ip, (port + 1) & 0xFFFF, key))
    elif mode == "legacy_mapped" or (classic and mode == "good"):
        attrs += attr(0x0001, addr_value(family, ip, port, None))
    elif mode == "legacy_8020":
        attrs += attr(0x8020, addr_value(family, ip, port, key))
    elif mode == "no_address":
        attrs += attr(0x8022, b"fake")  # SOFTWARE only
    elif mode == "both_forms":
        attrs += attr(0x0001, addr_value(family, ip, port, None))
        attrs += attr(0x0020, addr_value(family, ip, port, key))
    else:
        attrs += attr(0x0020, addr_value(family, ip, port, key))
    if (has_fp and not classic) or mode in ("bad_fingerprint", "fp_not_last"):
        head = struct.pack("!HH", 0x0101, len(attrs) + 8) + key
        fp = fingerprint(head + attrs)
        if mode == "bad_fingerprint":
            fp = fp[:4] + bytes(b ^ 0xFF for b in fp[4:])
        attrs += fp
        if mode == "fp_not_last":
            attrs += attr(0x8022, b"late")
    length = len(attrs) + (4 if mode == "bad_length" else 0)
    msg = struct.pack("!HH", 0x0101, length) + key + attrs
    return [msg, msg] if mode == "duplicate" else [msg]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=MODES, default="good")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host4", default="127.0.0.1", help="IPv4 address to listen on")
    ap.add_argument("--host6", default="::1", help="IPv6 address to listen on")
    ap.add_argument("--watch-stdin", action="store_true", help="exit when stdin reaches end of file")
    ap.add_argument("--lifetime", type=float, default=120.0, help="hard exit after this many seconds")
    args = ap.parse_args()

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))

    # Same port on both families: take a free IPv4 port, then bind ::1 to it.
    for _ in range(50):
        s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s4.bind((args.host4, args.port))
        port = s4.getsockname()[1]
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            s6.bind((args.host6, port))
            break
        except OSError:
            s4.close()
            s6.close()
            if args.port:
                raise
    else:
        sys.exit("fake_server: no free port pair")
    for s in (s4, s6):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
    print(f"PORT {port}", flush=True)

    deadline = time.monotonic() + args.lifetime
    seen = 0
    sources = set()
    watch = [s4, s6] + ([sys.stdin] if args.watch_stdin else [])
    while not stopping and time.monotonic() < deadline:
        try:
            ready, _, _ = select.select(watch, [], [], 0.2)
        except InterruptedError:
            continue
        for s in ready:
            if s is sys.stdin:
                if not os.read(sys.stdin.fileno(), 4096):
                    stopping.append(1)
                continue
            fam = s.family
            for _ in range(256):
                try:
                    data, src = s.recvfrom(2048)
                except BlockingIOError:
                    break
                if seen == 0:
                    print("FIRST", flush=True)
                seen += 1
                sources.add(src[0])
                for out in answer(data, fam, src, args.mode, seen - 1):
                    try:
                        s.sendto(out, src)
                    except OSError:
                        pass
    print(f"SEEN {seen} {len(sources)}", flush=True)


if __name__ == "__main__":
    main()
