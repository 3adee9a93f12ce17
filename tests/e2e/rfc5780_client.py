#!/usr/bin/env python3
"""The client side of RFC 5780 NAT behaviour discovery (s4.3 mapping, s4.4 filtering), checking every reply.

Reads OTHER-ADDRESS from the first answer as real clients do, then asks the
other endpoints and for changes, and checks each reply strictly: it comes
from the endpoint the rule names, RESPONSE-ORIGIN (SOURCE-ADDRESS for classic
requests) says so, OTHER-ADDRESS (CHANGED-ADDRESS) is the diagonal endpoint,
XOR-MAPPED-ADDRESS (MAPPED-ADDRESS) is the client's own address. Also checks
RESPONSE-PORT, PADDING and their 400. Standard library only (runs inside a
network namespace):

    rfc5780_client.py --server 198.18.0.2:3478 [--server [2001:2::2]:3478] [--expect-open]

Prints PASS/FAIL lines and one verdict line per server, e.g.
"rfc5780 198.18.0.2:3478: NAT: none; mapping: endpoint-independent; filtering: endpoint-independent".
Exit 0 when every check passed (and, with --expect-open, every verdict is that one).
"""

import argparse
import os
import socket
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stun_blackbox as bb  # noqa: E402

A_MAPPED = 0x0001
A_SOURCE_ADDRESS = 0x0004
A_CHANGED_ADDRESS = 0x0005
A_PADDING = 0x0026
A_RESPONSE_PORT = 0x0027
A_RESPONSE_ORIGIN = 0x802B
A_OTHER_ADDRESS = 0x802C
CHANGE_IP, CHANGE_PORT = 0x04, 0x02
OPEN = "NAT: none; mapping: endpoint-independent; filtering: endpoint-independent"


def norm(host_port):
    """(host, port) with the host in canonical form, so addresses compare as addresses."""
    host, port = host_port[0], host_port[1]
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.inet_ntop(fam, socket.inet_pton(fam, host)), port


def text(ep):
    return ("[%s]:%d" if ":" in ep[0] else "%s:%d") % ep


class Run:
    def __init__(self, server):
        self.target = bb.Target(server)
        self.failures = []
        self.stats = {}

    def check(self, cond, what):
        print(("PASS " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures.append(what)
        return cond

    def client(self):
        return bb.Client(self.target, self.stats)

    def ask(self, c, to, request, wait=bb.REPLY_WAIT):
        """Sends `request` to endpoint `to` (retrying); the (Reply, source) that answers it, or None."""
        for _ in range(bb.RETRIES):
            c.sock.sendto(request, to)
            got = c.receive(wait, tid=request[4:20])
            if got is not None:
                return bb.Reply(got[0], got[1]), norm(got[1])
        return None

    def address(self, reply, atype, xor, request):
        v = reply.get(atype)
        return None if v is None else norm(bb.decode_address(v, xor, request[4:20]))

    def expect(self, name, c, to, request, source, other, classic=False):
        """One exchange whose reply must come from `source` and name `other`; returns the mapped address."""
        got = self.ask(c, to, request)
        if not self.check(got is not None, "%s: answered" % name):
            return None
        reply, src = got
        self.check(reply.type == bb.BINDING_SUCCESS, "%s: Binding success (0x%04x)" % (name, reply.type))
        self.check(src == source, "%s: reply from %s (got %s)" % (name, text(source), text(src)))
        origin_t, other_t = (A_SOURCE_ADDRESS, A_CHANGED_ADDRESS) if classic else (A_RESPONSE_ORIGIN, A_OTHER_ADDRESS)
        origin = self.address(reply, origin_t, False, request)
        named = self.address(reply, other_t, False, request)
        self.check(origin == source, "%s: %s names %s (got %s)" % (
            name, "SOURCE-ADDRESS" if classic else "RESPONSE-ORIGIN", text(source), origin and text(origin)))
        self.check(named == other, "%s: %s is the diagonal endpoint %s (got %s)" % (
            name, "CHANGED-ADDRESS" if classic else "OTHER-ADDRESS", text(other), named and text(named)))
        mapped = self.address(reply, A_MAPPED if classic else bb.A_XOR_MAPPED, not classic, request)
        own = norm(c.own_address())
        self.check(mapped == own, "%s: mapped address is the client's own %s (got %s)" % (
            name, text(own), mapped and text(mapped)))
        if not classic:
            self.check(reply.get(A_MAPPED) is None, "%s: no MAPPED-ADDRESS beside XOR-MAPPED-ADDRESS" % name)
        return mapped

    def run(self):
        t = self.target
        pp = norm((t.host, t.port))
        c = self.client()
        # s4.3 test I: the primary endpoint; OTHER-ADDRESS tells the rest.
        req = bb.binding()
        got = self.ask(c, pp, req)
        if not self.check(got is not None, "test I: %s answers" % t.text):
            return None
        reply, _ = got
        aa = self.address(reply, A_OTHER_ADDRESS, False, req)
        if not self.check(aa is not None and aa[0] != pp[0] and aa[1] != pp[1],
                          "test I: OTHER-ADDRESS names another IP and port (%s)" % (aa and text(aa))):
            return None
        pa, ap = (pp[0], aa[1]), (aa[0], pp[1])
        x1 = self.expect("test I (PP)", c, pp, bb.binding(), pp, aa)
        # s4.3 tests II and III: the same socket to AP and AA.
        x2 = self.expect("mapping test II (AP)", c, ap, bb.binding(), ap, pa)
        x3 = self.expect("mapping test III (AA)", c, aa, bb.binding(), aa, pp)
        self.expect("PA", c, pa, bb.binding(fingerprint=True), pa, ap)
        own = norm(c.own_address())
        if x1 == own:
            nat, mapping = "none", "endpoint-independent"
        elif x2 == x1:
            nat, mapping = "present", "endpoint-independent"
        else:
            nat, mapping = "present", "address-dependent" if x3 == x2 else "address-and-port-dependent"
        # s4.4 filtering: change IP and port (II), change port only (III), from PP.
        change = lambda flags: bb.binding(bb.attr(bb.A_CHANGE_REQUEST, struct.pack("!I", flags)))  # noqa: E731
        f2 = self.ask(c, pp, change(CHANGE_IP | CHANGE_PORT))
        f3 = self.ask(c, pp, change(CHANGE_PORT))
        if f2 is not None:
            filtering = "endpoint-independent"
        else:
            filtering = "address-dependent" if f3 is not None else "address-and-port-dependent"
        # Every reply checked in full (no NAT on the path: each must arrive).
        self.expect("filtering test II (change IP and port)", c, pp, change(CHANGE_IP | CHANGE_PORT), aa, aa)
        self.expect("filtering test III (change port)", c, pp, change(CHANGE_PORT), pa, aa)
        self.expect("change IP", c, pp, change(CHANGE_IP), ap, aa)
        self.expect("change IP and port from AA", c, aa, change(CHANGE_IP | CHANGE_PORT), pp, pp)
        # RFC 3489 clients: SOURCE-ADDRESS and CHANGED-ADDRESS.
        classic = bb.classic_binding(bb.attr(bb.A_CHANGE_REQUEST, struct.pack("!I", CHANGE_IP)))
        self.expect("classic change IP", c, pp, classic, ap, aa, classic=True)
        self.response_port(c, pp, aa)
        self.padding(c, pp)
        c.close()
        return "NAT: %s; mapping: %s; filtering: %s" % (nat, mapping, filtering)

    def response_port(self, a, pp, aa):
        """RESPONSE-PORT: the reply goes to the other socket; XOR-MAPPED-ADDRESS still names the sender."""
        b = self.client()
        req = bb.binding(bb.attr(A_RESPONSE_PORT, struct.pack("!HH", b.own_address()[1], 0)))
        got = None
        for _ in range(bb.RETRIES):
            a.sock.sendto(req, pp)
            got = b.receive(bb.REPLY_WAIT, tid=req[4:20])
            if got is not None:
                break
        if self.check(got is not None, "RESPONSE-PORT: the reply arrives at the named port"):
            reply = bb.Reply(got[0], got[1])
            self.check(norm(got[1]) == pp, "RESPONSE-PORT: from %s (got %s)" % (text(pp), text(norm(got[1]))))
            mapped = self.address(reply, bb.A_XOR_MAPPED, True, req)
            self.check(mapped == norm(a.own_address()), "RESPONSE-PORT: XOR-MAPPED-ADDRESS names the sending socket")
            self.check(self.address(reply, A_OTHER_ADDRESS, False, req) == aa, "RESPONSE-PORT: OTHER-ADDRESS")
        both = bb.binding(bb.attr(A_RESPONSE_PORT, struct.pack("!HH", b.own_address()[1], 0)) +
                          bb.attr(A_PADDING, bytes(16)))
        got = self.ask(a, pp, both)
        ok = got is not None and got[0].type == bb.BINDING_ERROR and got[0].get(bb.A_ERROR_CODE) is not None \
            and got[0].get(bb.A_ERROR_CODE)[2:4] == b"\x04\x00"
        self.check(ok, "RESPONSE-PORT with PADDING: 400 Bad Request, to the sender")
        b.close()

    def padding(self, c, pp):
        req = bb.binding(bb.attr(A_PADDING, bytes(200)))
        got = self.ask(c, pp, req)
        if self.check(got is not None, "PADDING: answered"):
            reply, _ = got
            self.check(reply.get(A_PADDING) is not None, "PADDING: echoed")
            self.check(len(reply.data) <= len(req), "PADDING: reply %d bytes <= request %d bytes" % (
                len(reply.data), len(req)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", action="append", required=True, help="PRIMARY-IP:PORT or [PRIMARY-IP]:PORT")
    ap.add_argument("--expect-open", action="store_true", help="fail unless every verdict is: " + OPEN)
    args = ap.parse_args()
    failed = 0
    for server in args.server:
        r = Run(server)
        verdict = r.run()
        print("rfc5780 %s: %s" % (server, verdict), flush=True)
        if verdict is None or r.failures or (args.expect_open and verdict != OPEN):
            failed += 1
    print("rfc5780_client: " + ("PASS" if failed == 0 else "FAIL (%d server(s))" % failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
