#!/usr/bin/env python3
"""Black-box STUN checks over UDP against a running stunbox (socket or DPDK path).

Builds every request itself, validates every reply strictly, and checks each
rule of issue 2. Standard library only, so it also runs inside a network
namespace against the DPDK path:

    stun_blackbox.py --server 127.0.0.1:4000 --server [::1]:4000 \
        [--fingerprint mirror|always|never] [--classic yes|no] [--software TEXT] \
        [--summary FILE]

Prints one line per check ("PASS name" / "FAIL name: why"); exit 0 when all
pass, 1 otherwise. --summary writes JSON with how many datagrams of each kind
were sent, so a driver can compare the server's final counters exactly.
"""

import argparse
import binascii
import hashlib
import hmac
import json
import os
import select
import socket
import struct
import sys
import time

MAGIC = 0x2112A442
FP_XOR = 0x5354554E

BINDING_REQUEST = 0x0001
BINDING_INDICATION = 0x0011
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
ALLOCATE_REQUEST = 0x0003

A_MAPPED = 0x0001
A_RESPONSE_ADDRESS = 0x0002
A_CHANGE_REQUEST = 0x0003
A_USERNAME = 0x0006
A_MESSAGE_INTEGRITY = 0x0008
A_ERROR_CODE = 0x0009
A_UNKNOWN_ATTRIBUTES = 0x000A
A_XOR_MAPPED = 0x0020
A_PRIORITY = 0x0024
A_USE_CANDIDATE = 0x0025
A_SOFTWARE = 0x8022
A_FINGERPRINT = 0x8028
A_ICE_CONTROLLED = 0x8029
A_ICE_CONTROLLING = 0x802A

# Unassigned types in the comprehension-required / -optional ranges (RFC 8489 s18.3).
UNKNOWN_REQUIRED_A = 0x7F31
UNKNOWN_REQUIRED_B = 0x7F32
UNKNOWN_OPTIONAL = 0xFE7E

REPLY_WAIT = 0.7      # seconds to wait for an answer that must come
SILENCE_WAIT = 0.4    # seconds of silence that count as "no answer"
RETRIES = 3           # UDP may lose a datagram; never more than this


class CheckFailed(Exception):
    pass


# ---------------------------------------------------------------- building

def attr(atype, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * pad


def message(mtype, attrs=b"", tid=None, cookie=MAGIC, length=None):
    tid = os.urandom(12) if tid is None else tid
    length = len(attrs) if length is None else length
    return struct.pack("!HHI", mtype, length, cookie) + tid + attrs


def fingerprint_attr(msg_without_fp):
    """FINGERPRINT for a message whose header length does not yet count it."""
    mtype, length = struct.unpack_from("!HH", msg_without_fp)
    patched = struct.pack("!HH", mtype, length + 8) + msg_without_fp[4:]
    crc = (binascii.crc32(patched) & 0xFFFFFFFF) ^ FP_XOR
    return patched, attr(A_FINGERPRINT, struct.pack("!I", crc))


def with_fingerprint(msg):
    patched, fp = fingerprint_attr(msg)
    return patched + fp


def with_integrity(msg, key):
    """MESSAGE-INTEGRITY per RFC 8489 s14.5 (HMAC-SHA1 over the message with the length covering MI)."""
    mtype, length = struct.unpack_from("!HH", msg)
    patched = struct.pack("!HH", mtype, length + 24) + msg[4:]
    mac = hmac.new(key, patched, hashlib.sha1).digest()
    return patched + attr(A_MESSAGE_INTEGRITY, mac)


def append_attr(msg, a):
    mtype, length = struct.unpack_from("!HH", msg)
    return struct.pack("!HH", mtype, length + len(a)) + msg[4:] + a


def binding(attrs=b"", fingerprint=False):
    m = message(BINDING_REQUEST, attrs)
    return with_fingerprint(m) if fingerprint else m


def classic_binding(attrs=b""):
    tid = os.urandom(16)
    while tid[:4] == struct.pack("!I", MAGIC):
        tid = os.urandom(16)
    return struct.pack("!HH", BINDING_REQUEST, len(attrs)) + tid + attrs


# ---------------------------------------------------------------- parsing

class Reply:
    def __init__(self, data, source):
        self.data = data
        self.source = source
        if len(data) < 20:
            raise CheckFailed("reply shorter than 20 bytes (%d)" % len(data))
        self.type, self.length = struct.unpack_from("!HH", data)
        if self.type & 0xC000:
            raise CheckFailed("reply top bits not zero: 0x%04x" % self.type)
        if self.length != len(data) - 20 or self.length % 4:
            raise CheckFailed("reply length field %d but %d bytes follow the header" % (self.length, len(data) - 20))
        self.attrs = []  # (type, value, offset)
        off = 20
        while off < len(data):
            if off + 4 > len(data):
                raise CheckFailed("reply attribute header truncated at %d" % off)
            at, al = struct.unpack_from("!HH", data, off)
            end = off + 4 + al
            if end > len(data):
                raise CheckFailed("reply attribute 0x%04x runs past the end" % at)
            padded = end + (4 - al % 4) % 4
            if padded > len(data) or any(data[end:padded]):
                raise CheckFailed("reply attribute 0x%04x padding missing or non-zero" % at)
            self.attrs.append((at, data[off + 4:end], off))
            off = padded

    def get(self, atype):
        for at, v, _ in self.attrs:
            if at == atype:
                return v
        return None

    def count(self, atype):
        return sum(1 for at, _, _ in self.attrs if at == atype)


def decode_address(value, xor, tid16):
    if len(value) < 4:
        raise CheckFailed("address attribute too short")
    family, port = value[1], struct.unpack_from("!H", value, 2)[0]
    if family == 1:
        if len(value) != 8:
            raise CheckFailed("IPv4 address attribute length %d != 8" % len(value))
        raw = value[4:8]
    elif family == 2:
        if len(value) != 20:
            raise CheckFailed("IPv6 address attribute length %d != 20" % len(value))
        raw = value[4:20]
    else:
        raise CheckFailed("address family 0x%02x" % family)
    if xor:
        port ^= MAGIC >> 16
        key = tid16 if family == 2 else tid16[:4]
        raw = bytes(a ^ b for a, b in zip(raw, key))
    fam = socket.AF_INET if family == 1 else socket.AF_INET6
    return socket.inet_ntop(fam, raw), port


# ---------------------------------------------------------------- transport

class Target:
    def __init__(self, text):
        if text.startswith("["):
            host, _, port = text[1:].partition("]:")
            self.family = socket.AF_INET6
        else:
            host, _, port = text.rpartition(":")
            self.family = socket.AF_INET
        self.host, self.port = host, int(port)
        self.text = text

    def sockaddr(self):
        return (self.host, self.port)


class Client:
    """One UDP socket; remembers how many datagrams of each kind it sent."""

    def __init__(self, target, stats, bind_host=None):
        self.target = target
        self.stats = stats
        if bind_host is None:
            # Bind to the source address the kernel would pick for this target,
            # so getsockname() is the address the server must report.
            probe = socket.socket(target.family, socket.SOCK_DGRAM)
            try:
                probe.connect(target.sockaddr())
                bind_host = probe.getsockname()[0]
            finally:
                probe.close()
        self.sock = socket.socket(target.family, socket.SOCK_DGRAM)
        self.sock.bind((bind_host, 0))
        self.sock.setblocking(False)

    def close(self):
        self.sock.close()

    def own_address(self):
        host, port = self.sock.getsockname()[:2]
        return host, port

    def send(self, data, kind):
        self.stats[kind] = self.stats.get(kind, 0) + 1
        self.stats["datagrams"] = self.stats.get("datagrams", 0) + 1
        self.stats["bytes"] = self.stats.get("bytes", 0) + len(data)
        self.sock.sendto(data, self.target.sockaddr())

    def receive(self, timeout, tid=None):
        """Next datagram (optionally with this transaction id) within timeout, else None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            data, src = self.sock.recvfrom(65535)
            if tid is None or data[4:20] == tid:
                return data, src

    def drain(self):
        while self.receive(0.0) is not None:
            pass

    def transact(self, data, kind):
        """Sends until a reply with the request's cookie and id arrives (at most RETRIES tries)."""
        for _ in range(RETRIES):
            self.send(data, kind)
            got = self.receive(REPLY_WAIT, tid=data[4:20])
            if got is not None:
                return Reply(got[0], got[1]), data[4:20]
        raise CheckFailed("no reply after %d tries of %.1fs" % (RETRIES, REPLY_WAIT))


# ---------------------------------------------------------------- checks

class Checker:
    def __init__(self, args):
        self.args = args
        self.stats = {}
        self.failures = []

    def run(self, name, fn, *a):
        try:
            fn(*a)
        except CheckFailed as e:
            self.failures.append(name)
            print("FAIL %s: %s" % (name, e), flush=True)
        except OSError as e:
            self.failures.append(name)
            print("FAIL %s: socket error: %s" % (name, e), flush=True)
        else:
            print("PASS %s" % name, flush=True)

    # -- reply validation shared by the checks

    def expect_fingerprint(self, request_had_fp):
        policy = self.args.fingerprint
        return policy == "always" or (policy == "mirror" and request_had_fp)

    def check_fingerprint(self, reply, expected):
        n = reply.count(A_FINGERPRINT)
        if not expected:
            if n:
                raise CheckFailed("FINGERPRINT present but policy %s says none" % self.args.fingerprint)
            return
        if n != 1:
            raise CheckFailed("expected exactly one FINGERPRINT, found %d" % n)
        at, value, off = reply.attrs[-1]
        if at != A_FINGERPRINT:
            raise CheckFailed("FINGERPRINT is not the last attribute")
        crc = (binascii.crc32(reply.data[:off]) & 0xFFFFFFFF) ^ FP_XOR
        if struct.unpack("!I", value)[0] != crc:
            raise CheckFailed("FINGERPRINT 0x%08x, computed 0x%08x" % (struct.unpack("!I", value)[0], crc))

    def check_software(self, reply):
        sw = reply.get(A_SOFTWARE)
        if self.args.software is None:
            if sw is not None:
                raise CheckFailed("SOFTWARE %r sent but none configured" % sw)
        elif sw != self.args.software.encode():
            raise CheckFailed("SOFTWARE %r, expected %r" % (sw, self.args.software))

    def check_common(self, client, reply, request, want_type):
        if reply.type != want_type:
            raise CheckFailed("reply type 0x%04x, expected 0x%04x" % (reply.type, want_type))
        if reply.data[4:20] != request[4:20]:
            raise CheckFailed("magic cookie / transaction id not echoed")
        want_host = self.args.expect_host or client.own_address()[0]
        if reply.source[0] != client.target.host and not self.args.any_source:
            raise CheckFailed("reply came from %s, request went to %s" % (reply.source[0], client.target.host))
        return want_host

    def check_success(self, client, reply, request, request_had_fp):
        want_host = self.check_common(client, reply, request, BINDING_SUCCESS)
        xm = reply.get(A_XOR_MAPPED)
        if xm is None or reply.count(A_XOR_MAPPED) != 1:
            raise CheckFailed("expected exactly one XOR-MAPPED-ADDRESS")
        host, port = decode_address(xm, True, request[4:20])
        own_port = client.own_address()[1]
        if (host, port) != (want_host, own_port):
            raise CheckFailed("XOR-MAPPED-ADDRESS %s port %d, client is %s port %d" % (host, port, want_host, own_port))
        if reply.get(A_ERROR_CODE) is not None:
            raise CheckFailed("success response carries ERROR-CODE")
        self.check_software(reply)
        self.check_fingerprint(reply, self.expect_fingerprint(request_had_fp))

    def check_420(self, client, reply, request, unknown, request_had_fp):
        self.check_common(client, reply, request, BINDING_ERROR)
        ec = reply.get(A_ERROR_CODE)
        if ec is None or len(ec) < 4:
            raise CheckFailed("no ERROR-CODE attribute")
        if ec[0] != 0 or ec[1] != 0 or ec[2] & 0xF8:
            raise CheckFailed("ERROR-CODE reserved bits not zero")
        code = (ec[2] & 7) * 100 + ec[3]
        if code != 420:
            raise CheckFailed("ERROR-CODE %d, expected 420" % code)
        try:
            ec[4:].decode("utf-8")
        except UnicodeDecodeError:
            raise CheckFailed("ERROR-CODE reason phrase is not UTF-8")
        ua = reply.get(A_UNKNOWN_ATTRIBUTES)
        if ua is None or len(ua) % 2:
            raise CheckFailed("UNKNOWN-ATTRIBUTES missing or odd length")
        listed = sorted(struct.unpack("!%dH" % (len(ua) // 2), ua))
        if listed != sorted(unknown):
            raise CheckFailed("UNKNOWN-ATTRIBUTES lists %s, expected %s" %
                              ([hex(x) for x in listed], [hex(x) for x in unknown]))
        if reply.get(A_XOR_MAPPED) is not None:
            raise CheckFailed("error response carries XOR-MAPPED-ADDRESS")
        self.check_fingerprint(reply, self.expect_fingerprint(request_had_fp))

    # -- the checks

    def success_case(self, target, kind, request, had_fp):
        c = Client(target, self.stats)
        try:
            reply, _ = c.transact(request, kind)
            self.check_success(c, reply, request, had_fp)
        finally:
            c.close()

    def error_case(self, target, request, unknown, had_fp):
        c = Client(target, self.stats)
        try:
            reply, _ = c.transact(request, "error_420")
            self.check_420(c, reply, request, unknown, had_fp)
        finally:
            c.close()

    def classic_case(self, target, attrs=b""):
        c = Client(target, self.stats)
        try:
            request = classic_binding(attrs)
            if not self.args.classic:
                c.send(request, "classic_disabled")
                if c.receive(SILENCE_WAIT) is not None:
                    raise CheckFailed("classic request answered although stun.classic is false")
                self.still_serving(c)
                return
            reply, _ = c.transact(request, "classic")
            self.check_common(c, reply, request, BINDING_SUCCESS)
            ma = reply.get(A_MAPPED)
            if ma is None:
                raise CheckFailed("no MAPPED-ADDRESS in classic reply")
            host, port = decode_address(ma, False, request[4:20])
            want = (self.args.expect_host or c.own_address()[0], c.own_address()[1])
            if (host, port) != want:
                raise CheckFailed("MAPPED-ADDRESS %s port %d, client is %s port %d" % (host, port, want[0], want[1]))
            if reply.count(A_FINGERPRINT):
                raise CheckFailed("classic reply carries FINGERPRINT")
        finally:
            c.close()

    def still_serving(self, c):
        request = binding()
        reply, _ = c.transact(request, "success")
        self.check_success(c, reply, request, False)

    def silent_case(self, target, datagram, kind):
        c = Client(target, self.stats)
        try:
            c.send(datagram, kind)
            got = c.receive(SILENCE_WAIT)
            if got is not None:
                raise CheckFailed("got a %d-byte answer (type 0x%04x), expected none" %
                                  (len(got[0]), struct.unpack_from("!H", got[0])[0] if len(got[0]) >= 2 else 0))
            self.still_serving(c)
        finally:
            c.close()

    def many_clients(self, target, n):
        clients = [Client(target, self.stats) for _ in range(n)]
        try:
            pending = {}
            for c in clients:
                pending[c] = binding()
            for _ in range(RETRIES):
                for c, req in pending.items():
                    c.send(req, "success")
                deadline = time.monotonic() + REPLY_WAIT
                while pending and time.monotonic() < deadline:
                    socks = {c.sock: c for c in pending}
                    r, _, _ = select.select(list(socks), [], [], max(0.0, deadline - time.monotonic()))
                    for s in r:
                        c = socks[s]
                        data, src = s.recvfrom(65535)
                        req = pending[c]
                        if data[4:20] != req[4:20]:
                            continue  # a late duplicate of an earlier try
                        self.check_success(c, Reply(data, src), req, False)
                        del pending[c]
                if not pending:
                    return
            raise CheckFailed("%d of %d clients got no answer" % (len(pending), n))
        finally:
            for c in clients:
                c.close()


def malformed_cases():
    """(name, datagram, stats kind): each breaks exactly one rule."""
    good = binding(attr(A_SOFTWARE, b"probe"))
    cases = [
        ("empty datagram", b"", "drop_too_short"),
        ("19 bytes", good[:19], "drop_too_short"),
        ("top bits set", struct.pack("!H", 0xC001) + good[2:], "drop_bad_top_bits"),
        ("length field too long", struct.pack("!HH", BINDING_REQUEST, len(good) - 20 + 4) + good[4:],
         "drop_bad_length"),
        ("length not a multiple of 4",
         message(BINDING_REQUEST, attr(A_SOFTWARE, b"abcd")[:6], length=6), "drop_bad_length"),
        ("attribute runs past the end",
         message(BINDING_REQUEST, struct.pack("!HH", A_SOFTWARE, 12) + b"abcd"), "drop_bad_attribute"),
    ]
    bad_fp = bytearray(binding(fingerprint=True))
    bad_fp[-1] ^= 0x01
    cases.append(("bad fingerprint", bytes(bad_fp), "drop_bad_fingerprint"))
    fp_first = binding(fingerprint=True)
    cases.append(("fingerprint not last", append_attr(fp_first, attr(A_SOFTWARE, b"late")),
                  "drop_fingerprint_not_last"))
    cases += [
        ("binding indication", message(BINDING_INDICATION), "drop_indication"),
        ("success response", message(BINDING_SUCCESS, attr(A_XOR_MAPPED, b"\0\1\0\0\0\0\0\0")), "drop_response"),
        ("error response", message(BINDING_ERROR, attr(A_ERROR_CODE, b"\0\0\4\24")), "drop_response"),
        ("allocate request", message(ALLOCATE_REQUEST), "drop_not_binding"),
        ("3000-byte datagram", binding(attr(A_SOFTWARE, b"x" * 2976)), "drop_oversize"),
    ]
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", action="append", required=True, help="HOST:PORT or [HOST]:PORT; repeatable")
    ap.add_argument("--fingerprint", choices=["mirror", "always", "never"], default="mirror",
                    help="the server's stun.fingerprint policy")
    ap.add_argument("--classic", choices=["yes", "no"], default="yes", help="the server's stun.classic")
    ap.add_argument("--software", default=None, help="the server's stun.software (omit when unset)")
    ap.add_argument("--clients", type=int, default=50, help="sockets in the many-clients check")
    ap.add_argument("--expect-host", default=None,
                    help="reflexive IP to expect (default: each client socket's own address)")
    ap.add_argument("--any-source", action="store_true", help="do not require replies from the target address")
    ap.add_argument("--summary", default=None, help="write JSON counts of datagrams sent, by kind")
    args = ap.parse_args()
    args.classic = args.classic == "yes"

    ck = Checker(args)
    for text in args.server:
        t = Target(text)
        fam = "v6" if t.family == socket.AF_INET6 else "v4"
        p = "%s %s: " % (fam, text)
        ck.run(p + "binding request", ck.success_case, t, "success", binding(), False)
        ck.run(p + "binding request with FINGERPRINT", ck.success_case, t, "success", binding(fingerprint=True), True)
        ck.run(p + "binding request with SOFTWARE", ck.success_case, t, "success",
               binding(attr(A_SOFTWARE, b"stun_blackbox")), False)
        ck.run(p + "unknown comprehension-optional attribute ignored", ck.success_case, t, "success",
               binding(attr(UNKNOWN_OPTIONAL, b"\1\2\3")), False)
        ice = message(BINDING_REQUEST, attr(A_SOFTWARE, b"STUN test client") + attr(A_PRIORITY, b"\x6e\0\x01\xff") +
                      attr(A_ICE_CONTROLLED, os.urandom(8)) + attr(A_USERNAME, b"evtj:h6vY"))
        ice = with_fingerprint(with_integrity(ice, b"VOkJxbRl1RmTxUk/WvJxBt"))
        ck.run(p + "ICE-style request (RFC 5769 s2.1 attributes)", ck.success_case, t, "success", ice, True)
        ice2 = message(BINDING_REQUEST, attr(A_USERNAME, b"a:b") + attr(A_PRIORITY, b"\0\0\0\1") +
                       attr(A_USE_CANDIDATE, b"") + attr(A_ICE_CONTROLLING, os.urandom(8)))
        ice2 = with_integrity(ice2, b"secret")
        ck.run(p + "ICE-style request with USE-CANDIDATE, ICE-CONTROLLING", ck.success_case, t, "success", ice2,
               False)
        after_mi = append_attr(with_integrity(binding(attr(A_USERNAME, b"u:v")), b"k"),
                               attr(UNKNOWN_REQUIRED_A, b"\0\0\0\0"))
        ck.run(p + "attribute after MESSAGE-INTEGRITY ignored (RFC 8489 s14.5)", ck.success_case, t, "success",
               after_mi, False)
        ck.run(p + "unknown comprehension-required attributes -> 420", ck.error_case, t,
               binding(attr(UNKNOWN_REQUIRED_A, b"abcd") + attr(UNKNOWN_REQUIRED_B, b"")), [UNKNOWN_REQUIRED_A,
                                                                                           UNKNOWN_REQUIRED_B], False)
        ck.run(p + "unknown attribute with FINGERPRINT -> 420", ck.error_case, t,
               binding(attr(UNKNOWN_REQUIRED_A, b"abcd"), fingerprint=True), [UNKNOWN_REQUIRED_A], True)
        # stuntman's stunclient binding test: RFC 5389 header, CHANGE-REQUEST with no flag set, no FINGERPRINT.
        ck.run(p + "CHANGE-REQUEST 0 is a plain binding request (stuntman's binding test)", ck.success_case, t,
               "success", binding(attr(A_CHANGE_REQUEST, b"\0\0\0\0")), False)
        ck.run(p + "CHANGE-REQUEST 0 with FINGERPRINT", ck.success_case, t, "success",
               binding(attr(A_CHANGE_REQUEST, b"\0\0\0\0"), fingerprint=True), True)
        for flags in (2, 4, 6):
            ck.run(p + "CHANGE-REQUEST %d -> 420" % flags, ck.error_case, t,
                   binding(attr(A_CHANGE_REQUEST, bytes([0, 0, 0, flags]))), [A_CHANGE_REQUEST], False)
        ck.run(p + "RESPONSE-ADDRESS -> 420", ck.error_case, t,
               binding(attr(A_RESPONSE_ADDRESS, b"\0\1\x12\x34\x7f\0\0\1")), [A_RESPONSE_ADDRESS], False)
        ck.run(p + ("classic RFC 3489 request" if args.classic else "classic RFC 3489 request (disabled)"),
               ck.classic_case, t)
        # Debian's `stun` client: classic header with CHANGE-REQUEST 0.
        ck.run(p + "classic request with CHANGE-REQUEST 0" + ("" if args.classic else " (disabled)"),
               ck.classic_case, t, attr(A_CHANGE_REQUEST, b"\0\0\0\0"))
        for name, datagram, kind in malformed_cases():
            ck.run(p + "no answer: " + name, ck.silent_case, t, datagram, kind)
        ck.run(p + "%d clients at once" % args.clients, ck.many_clients, t, args.clients)

    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(ck.stats, f, indent=1, sort_keys=True)
    if ck.failures:
        print("%d check(s) failed" % len(ck.failures), flush=True)
        return 1
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
