#!/usr/bin/env python3
"""Hostile traffic for scripts/soak.sh: malformed STUN, denied source ports, a flood, port churn, raw frames.

Runs for --seconds (at most 3600) and stops by itself; SIGTERM/SIGINT stop it
early. Every class is paced at its own rate and sent from its own sockets, so
the answers it gets are attributed to the class that provoked them. At the
end it writes --summary (JSON): per class the datagrams or frames sent, the
answers received, and the server counter each class must have moved.

UDP classes (both modes; targets are the server's IPv4 and IPv6 addresses,
the classes alternate between them):
  too_short, bad_top_bits, bad_length, bad_attribute, bad_fingerprint,
  fingerprint_not_last, bad_cookie (needs stun.classic=false), indication,
  response, not_binding, unknown_required (answered: 420), oversize,
  random_bytes, denied_port_53/123 (bound as root), flood (one source far
  above limits.rate.pps from many ports), churn (a new source port per request).
Raw classes (dpdk lab, --raw-iface): Ethernet frames written to an AF_PACKET
socket with one defect each (IPv4 checksum / header length / total length,
fragments, IPv6 extension and odd next headers, truncated UDP, bad and zero
UDP checksums, VLAN tags, unknown EtherTypes, ARP for other addresses, ICMP
errors), a ping flood over the L3 policer, spoofed sources and max-size frames.

Python 3 standard library only, plus tests/pcap/packets.py (frame builders
written independently of stunbox's own code).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pcap"))
import packets as pk  # noqa: E402

MAGIC = pk.MAGIC
TICK_S = 0.005             # pacing granularity
MAX_PER_TICK = 400         # per class: a stalled process catches up in slices, not in one burst
MAX_SECONDS = 3600
CHURN_RING = 256           # churn sockets kept open so each can still read its answer
FLOOD_SOCKETS = 16

stop = False


def on_signal(_sig, _frm):
    global stop
    stop = True


def binding(attrs=b"", fingerprint=False, tid=None):
    return pk.stun_msg(pk.BINDING_REQUEST, tid or os.urandom(12), [attrs] if attrs else [], fingerprint=fingerprint)


def stun_payloads(kind: str, rng: random.Random) -> bytes:
    """One datagram of a malformed (or, for unknown_required / churn / flood, well-formed) kind."""
    tid = os.urandom(12)
    if kind == "too_short":
        return binding()[: rng.choice((0, 1, 8, 19))]
    if kind == "bad_top_bits":
        m = bytearray(binding())
        m[0] |= rng.choice((0x40, 0x80, 0xC0))
        return bytes(m)
    if kind == "bad_length":
        good = binding(pk.stun_attr(pk.ATTR_SOFTWARE, b"soak"))
        if rng.random() < 0.5:  # length field longer than the datagram
            return struct.pack("!HH", pk.BINDING_REQUEST, len(good) - 20 + 4) + good[4:]
        return struct.pack("!HH", pk.BINDING_REQUEST, 6) + good[4:26]  # not a multiple of 4
    if kind == "bad_attribute":
        # An attribute header claiming 12 bytes with 4 present (RFC 8489 s14).
        return struct.pack("!HHI", pk.BINDING_REQUEST, 8, MAGIC) + tid + struct.pack("!HH", pk.ATTR_SOFTWARE, 12) + b"abcd"
    if kind == "bad_fingerprint":
        m = bytearray(binding(fingerprint=True))
        m[-1 - rng.randrange(4)] ^= 1 << rng.randrange(8)
        return bytes(m)
    if kind == "fingerprint_not_last":
        m = binding(fingerprint=True)
        extra = pk.stun_attr(pk.ATTR_SOFTWARE, b"late")
        return struct.pack("!HH", pk.BINDING_REQUEST, len(m) - 20 + len(extra)) + m[4:] + extra
    if kind == "bad_cookie":
        cookie = rng.getrandbits(32)
        while cookie == MAGIC:
            cookie = rng.getrandbits(32)
        return struct.pack("!HHI", pk.BINDING_REQUEST, 0, cookie) + tid
    if kind == "indication":
        return pk.stun_msg(pk.BINDING_INDICATION, tid)
    if kind == "response":
        t = rng.choice((pk.BINDING_SUCCESS, pk.BINDING_ERROR))
        return pk.stun_msg(t, tid, [pk.stun_attr(pk.ATTR_XOR_MAPPED, b"\0\1\0\0\0\0\0\0")])
    if kind == "not_binding":
        # Allocate, Refresh, Send, CreatePermission, ChannelBind requests (RFC 8656).
        return pk.stun_msg(rng.choice((0x0003, 0x0004, 0x0006, 0x0008, 0x0009)), tid)
    if kind == "unknown_required":
        # An unassigned comprehension-required attribute: RFC 8489 s7.3.1 -> 420.
        return pk.stun_msg(pk.BINDING_REQUEST, tid, [pk.stun_attr(0x7F31, b"soak")])
    if kind == "oversize":
        return pk.stun_msg(pk.BINDING_REQUEST, tid, [pk.stun_attr(pk.ATTR_SOFTWARE, b"x" * 2976)])
    if kind == "random_bytes":
        return os.urandom(rng.randrange(0, 600))
    raise ValueError(kind)


def parse_target(text: str) -> tuple[int, tuple[str, int]]:
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
        return socket.AF_INET6, (host, int(port))
    host, _, port = text.rpartition(":")
    return socket.AF_INET, (host, int(port))


class Class:
    """One kind of hostile traffic: its pacing, its sockets and its tally."""

    def __init__(self, name: str, pps: float, expect: list[str], replies: str, note: str = ""):
        self.name, self.pps, self.expect, self.replies_rule, self.note = name, pps, expect, replies, note
        self.sent = self.replies = self.bad_replies = self.send_errors = 0

    def summary(self) -> dict:
        return {"sent": self.sent, "replies": self.replies, "bad_replies": self.bad_replies,
                "send_errors": self.send_errors, "pps": self.pps, "expect": self.expect,
                "replies_rule": self.replies_rule, "note": self.note}


class Hostile:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.targets = [parse_target(t) for t in args.target]
        self.classes: dict[str, Class] = {}
        self.sock_class: dict[int, tuple[Class, socket.socket]] = {}
        self.ep = select.epoll()
        self.udp: dict[str, list[tuple[socket.socket, tuple[str, int]]]] = {}
        self.churn: list[tuple[socket.socket, tuple[str, int]]] = []
        self.raw: socket.socket | None = None
        self.raw_frames: dict[str, object] = {}
        self.skipped: dict[str, str] = {}

    # --- sockets -------------------------------------------------------------

    def source_for(self, family: int, v4: str | None, v6: str | None) -> str | None:
        return v4 if family == socket.AF_INET else v6

    def open_udp(self, cls: Class, family: int, src: str | None, port: int = 0) -> socket.socket:
        s = socket.socket(family, socket.SOCK_DGRAM)
        if port:
            # Only for a fixed port. With SO_REUSEADDR on an ephemeral bind the
            # kernel may hand out a port another of our sockets holds, and the
            # newer socket then receives the other one's answers.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if src is not None or port:
            s.bind((src or ("::" if family == socket.AF_INET6 else "0.0.0.0"), port))
        s.setblocking(False)
        self.ep.register(s.fileno(), select.EPOLLIN)
        self.sock_class[s.fileno()] = (cls, s)
        return s

    def close_udp(self, s: socket.socket) -> None:
        self.ep.unregister(s.fileno())
        del self.sock_class[s.fileno()]
        s.close()

    def add_udp_class(self, name: str, pps: float, expect: list[str], replies: str, *, v4: str | None, v6: str | None,
                      port: int = 0, nsock: int = 1, families: tuple[int, ...] = (socket.AF_INET, socket.AF_INET6),
                      note: str = "") -> None:
        cls = Class(name, pps, expect, replies, note)
        socks = []
        for family, dest in self.targets:
            if family not in families:
                continue
            src = self.source_for(family, v4, v6)
            for _ in range(nsock):
                try:
                    socks.append((self.open_udp(cls, family, src, port), dest))
                except OSError as e:
                    self.skipped[name] = f"cannot bind {src}:{port}: {e.strerror}"
                    break
        if not socks:
            self.skipped.setdefault(name, "no target of a usable family")
            return
        self.classes[name] = cls
        self.udp[name] = socks

    # --- setup ---------------------------------------------------------------

    def setup(self) -> None:
        a = self.args
        v4, v6 = a.source_v4, a.source_v6
        # dpdk lab: the sender's kernel fragments them. IPv6 fragments reach stunbox
        # (fragment header: ipv6_extension_header); IPv4 fragments are reassembled by
        # the kernel for net_af_packet's fanout group (PACKET_FANOUT_FLAG_DEFRAG) and the
        # 3000-byte datagram reaches the PMD cut to its 2048-byte ring frame, so its IPv4
        # total length runs past the frame: ipv4_malformed.
        oversize_expect = {"socket": ["sock_truncated"], "dpdk": ["ipv4_malformed", "ipv6_extension_header"]}[a.mode]
        drop_classes = [
            ("too_short", ["stun_too_short"]),
            ("bad_top_bits", ["stun_bad_top_bits"]),
            ("bad_length", ["stun_bad_length"]),
            ("bad_attribute", ["stun_bad_attribute"]),
            ("bad_fingerprint", ["stun_bad_fingerprint"]),
            ("fingerprint_not_last", ["stun_fingerprint_not_last"]),
            ("bad_cookie", ["stun_classic_disabled"]),
            ("indication", ["stun_indication"]),
            ("response", ["stun_response"]),
            ("not_binding", ["stun_not_binding"]),
            ("oversize", oversize_expect),
            ("random_bytes", []),
        ]
        for name, expect in drop_classes:
            note = "3000-byte datagrams" + (": fragmented by the sender's kernel; IPv4 reassembled by "
                                            "af_packet's fanout defrag and cut to 2048 bytes" if a.mode == "dpdk" else
                                            ": larger than the 2048-byte receive buffer") if name == "oversize" else ""
            self.add_udp_class(name, a.class_pps, expect, "none", v4=v4, v6=v6, note=note)
        self.add_udp_class("unknown_required", a.class_pps, ["stun_error"], "error420", v4=v4, v6=v6,
                           note="answered with 420 (RFC 8489 s7.3.1)")
        for port in a.denied_ports:
            self.add_udp_class(f"denied_port_{port}", a.class_pps, ["source_port_denied"], "none",
                               v4=a.denied_source, v6=None, port=port, families=(socket.AF_INET,))
        if a.flood_pps > 0:
            self.add_udp_class("flood", a.flood_pps, ["rate_limited"], "limited", v4=a.flood_source, v6=None,
                               nsock=FLOOD_SOCKETS, families=(socket.AF_INET,),
                               note=f"one source, {FLOOD_SOCKETS} ports, against limits.rate.pps {a.rate_pps}")
        if a.churn_pps > 0:
            cls = Class("churn", a.churn_pps, ["stun_success"], "most", "a new source port for every request")
            self.classes["churn"] = cls
        if a.raw_iface:
            self.setup_raw()

    def setup_raw(self) -> None:
        a = self.args
        self.raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.raw.bind((a.raw_iface, 0))
        self.raw.setblocking(False)
        with open(f"/sys/class/net/{a.raw_iface}/address") as f:
            src_mac = pk.mac(f.read().strip())
        dst_mac = pk.mac(a.raw_dst_mac)
        c4, s4 = pk.ip4(a.raw_src_v4), pk.ip4(a.raw_dst_v4)
        c6, s6 = pk.ip6(a.raw_src_v6), pk.ip6(a.raw_dst_v6)
        port = a.stun_port

        def stun_v4(payload=None, *, sport=40000, dport=port, udp_csum="good", src=c4, **ip_kw):
            payload = binding() if payload is None else payload
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV4,
                          pk.ipv4(src, s4, pk.PROTO_UDP, pk.udp(src, s4, sport, dport, payload, v6=False, checksum=udp_csum),
                                  **ip_kw))

        def stun_v6(payload=None, *, sport=40000, dport=port, udp_csum="good", nh=pk.PROTO_UDP, **ip_kw):
            payload = binding() if payload is None else payload
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV6,
                          pk.ipv6(c6, s6, nh, pk.udp(c6, s6, sport, dport, payload, v6=True, checksum=udp_csum), **ip_kw))

        def bad_ihl():
            f = bytearray(stun_v4())
            f[14] = 0x44  # IHL 4: shorter than the minimum header (RFC 791 s3.1)
            return bytes(f)

        def udp_truncated():
            # UDP length field larger than the IP payload carrying it.
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV4,
                          pk.ipv4(c4, s4, pk.PROTO_UDP, pk.udp(c4, s4, 40001, port, binding(), v6=False, length=200)))

        def ipv6_ext():
            nh = self.rng.choice((0, 44, 60))  # hop-by-hop, fragment, destination options
            return stun_v6(nh=nh)

        def ipv6_odd():
            nh = self.rng.choice((6, 132, 136))  # TCP, SCTP, UDP-Lite: not served
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV6, pk.ipv6(c6, s6, nh, os.urandom(32)))

        def ipv6_bad_len():
            return stun_v6(payload_length=1000)

        def vlan():
            if self.rng.random() < 0.5:
                return pk.eth(dst_mac, src_mac, pk.ETH_IPV4, pk.ipv4(c4, s4, pk.PROTO_UDP,
                              pk.udp(c4, s4, 40002, port, binding(), v6=False)), vlan=self.rng.randrange(1, 4095))
            # Max-size tagged frame (1518 bytes without FCS).
            body = pk.stun_msg(pk.BINDING_REQUEST, os.urandom(12), [pk.stun_attr(pk.ATTR_SOFTWARE, b"v" * 1448)])
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV4, pk.ipv4(c4, s4, pk.PROTO_UDP,
                          pk.udp(c4, s4, 40002, port, body, v6=False)), vlan=7)

        def unknown_type():
            return pk.eth(dst_mac, src_mac, self.rng.choice((0x88B5, 0x88B6, 0x9000, 0x0842)), os.urandom(46))

        def other_mac():
            return pk.eth(b"\x02\x00\x00\x00\x00\x99", src_mac, pk.ETH_IPV4,
                          pk.ipv4(c4, s4, pk.PROTO_UDP, pk.udp(c4, s4, 40003, port, binding(), v6=False)))

        def arp_other():
            other = pk.ip4(f"198.18.0.{self.rng.randrange(100, 250)}")
            return pk.eth(pk.BROADCAST, src_mac, pk.ETH_ARP, pk.arp(1, src_mac, c4, b"\0" * 6, other))

        def arp_reply():
            return pk.eth(dst_mac, src_mac, pk.ETH_ARP, pk.arp(2, src_mac, c4, dst_mac, s4))

        def arp_ours():
            return pk.eth(pk.BROADCAST, src_mac, pk.ETH_ARP, pk.arp(1, src_mac, c4, b"\0" * 6, s4))

        def icmp_bad():
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV4, pk.ipv4(c4, s4, pk.PROTO_ICMP,
                          pk.icmp4(8, 0, struct.pack("!HH", 7, 1) + b"soak", bad_checksum=True)))

        def icmp_timestamp():
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV4, pk.ipv4(c4, s4, pk.PROTO_ICMP,
                          pk.icmp4(13, 0, struct.pack("!HH", 7, 1) + b"\0" * 12)))

        def icmp6_bad():
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV6, pk.ipv6(c6, s6, pk.PROTO_ICMP6,
                          pk.icmp6(c6, s6, 128, 0, struct.pack("!HH", 7, 1) + b"soak", bad_checksum=True)))

        def icmp6_type():
            # Router solicitation to our address: not something a STUN box answers.
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV6, pk.ipv6(c6, s6, pk.PROTO_ICMP6,
                          pk.icmp6(c6, s6, 133, 0, b"\0" * 4), hop_limit=255))

        seq = [0]

        def ping4():
            seq[0] = (seq[0] + 1) & 0xFFFF
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV4, pk.ipv4(c4, s4, pk.PROTO_ICMP,
                          pk.icmp4(8, 0, struct.pack("!HH", 0x50AC, seq[0]) + b"soak" * 8)))

        def ping6():
            seq[0] = (seq[0] + 1) & 0xFFFF
            return pk.eth(dst_mac, src_mac, pk.ETH_IPV6, pk.ipv6(c6, s6, pk.PROTO_ICMP6,
                          pk.icmp6(c6, s6, 128, 0, struct.pack("!HH", 0x50AC, seq[0]) + b"soak" * 8)))

        def spoofed():
            # A valid request from one of 65536 sources of 198.19.0.0/16: the
            # limiter's table sees far more sources than it holds.
            src = pk.ip4(f"198.19.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}")
            return stun_v4(sport=self.rng.randrange(1024, 65536), src=src)

        def max_size():
            body = pk.stun_msg(pk.BINDING_REQUEST, os.urandom(12), [pk.stun_attr(pk.ATTR_SOFTWARE, b"m" * 1448)])
            f = stun_v4(body, sport=40004)
            assert len(f) == 1514
            return f

        rp = a.raw_pps
        raw = [
            ("raw_ipv4_bad_checksum", rp, ["ipv4_bad_checksum"], lambda: stun_v4(bad_checksum=True), ""),
            ("raw_ipv4_bad_ihl", rp, ["ipv4_malformed"], bad_ihl, "IHL 4"),
            ("raw_ipv4_bad_total_length", rp, ["ipv4_malformed"],
             lambda: stun_v4(total_length=self.rng.choice((19, 1400))), "total length < header or > frame"),
            # net_af_packet's fanout group has PACKET_FANOUT_FLAG_DEFRAG: the kernel holds
            # IPv4 fragments for reassembly and they never reach stunbox, so no counter
            # can be expected here (ipv4_fragment is covered by tests/golden on plain bytes).
            ("raw_ipv4_fragment", rp, [],
             lambda: stun_v4(flags_frag=self.rng.choice((0x2000, 0x0010, 0x2020))),
             "MF set or offset > 0: held by the kernel's af_packet fanout defrag, never delivered"),
            ("raw_ipv4_not_ours", rp, ["ipv4_not_ours"], lambda: pk.eth(dst_mac, src_mac, pk.ETH_IPV4, pk.ipv4(
                c4, pk.ip4("198.18.0.77"), pk.PROTO_UDP, pk.udp(c4, pk.ip4("198.18.0.77"), 40005, port, binding(), v6=False))), ""),
            ("raw_ipv4_bad_source", rp, ["ipv4_bad_source"],
             lambda: stun_v4(src=pk.ip4(self.rng.choice(("127.0.0.1", "224.0.0.5", "0.0.0.0", "255.255.255.255")))), ""),
            ("raw_ipv4_tcp", rp, ["ipv4_unsupported_proto"], lambda: pk.eth(dst_mac, src_mac, pk.ETH_IPV4, pk.ipv4(
                c4, s4, pk.PROTO_TCP, struct.pack("!HHIIHHHH", 40006, port, 1, 0, 0x5002, 1024, 0, 0))), "TCP SYN"),
            ("raw_ipv6_extension", rp, ["ipv6_extension_header"], ipv6_ext, "hop-by-hop, fragment, dest options"),
            ("raw_ipv6_odd_next_header", rp, ["ipv6_unsupported_proto"], ipv6_odd, "TCP, SCTP, UDP-Lite"),
            ("raw_ipv6_bad_length", rp, ["ipv6_malformed"], ipv6_bad_len, "payload length > frame"),
            ("raw_udp_truncated", rp, ["udp_malformed"], udp_truncated, "UDP length > IP payload"),
            ("raw_udp_bad_checksum_v4", rp, ["udp_bad_checksum"], lambda: stun_v4(udp_csum="bad"), ""),
            ("raw_udp_bad_checksum_v6", rp, ["udp_bad_checksum"], lambda: stun_v6(udp_csum="bad"), ""),
            ("raw_udp_zero_checksum_v6", rp, ["udp_zero_checksum_v6"], lambda: stun_v6(udp_csum="zero"), ""),
            ("raw_udp_port_not_served", rp, ["udp_port_not_served"], lambda: stun_v4(dport=port + 1), ""),
            ("raw_udp_source_port_zero", rp, ["udp_source_port_zero"], lambda: stun_v4(sport=0), ""),
            ("raw_vlan_tagged", rp, ["vlan_mismatch"], vlan, "incl. 1518-byte max-size tagged frames"),
            ("raw_unknown_ethertype", rp, ["eth_unsupported_type"], unknown_type, ""),
            ("raw_other_mac", rp, ["eth_not_ours"], other_mac, ""),
            ("raw_arp_other", rp, ["arp_not_ours"], arp_other, "who-has 198.18.0.100-249"),
            ("raw_arp_reply", rp, ["arp_not_request"], arp_reply, ""),
            ("raw_arp_ours", max(1.0, rp / 5), ["arp_replies"], arp_ours, "answered"),
            ("raw_icmp_bad_checksum", rp, ["icmp_bad_checksum"], icmp_bad, ""),
            ("raw_icmp_not_echo", rp, ["icmp_not_echo_request"], icmp_timestamp, "timestamp request"),
            ("raw_icmp6_bad_checksum", rp, ["icmp6_bad_checksum"], icmp6_bad, ""),
            ("raw_icmp6_unsupported", rp, ["icmp6_unsupported_type"], icmp6_type, "router solicitation"),
            ("raw_ping_flood", a.ping_pps, ["icmp_echo_replies", "l3_policed"], ping4, f"over limits.l3_pps {a.l3_pps}/lcore"),
            ("raw_ping6", rp, ["icmp6_echo_replies"], ping6, ""),
            ("raw_spoofed_sources", a.spoof_pps, ["stun_success"], spoofed, "valid requests from 198.19.0.0/16"),
            ("raw_max_size", rp, ["stun_success"], max_size, "1514-byte frames, answered"),
        ]
        for name, pps, expect, build, note in raw:
            if pps <= 0:
                continue
            self.classes[name] = Class(name, pps, expect, "n/a", note)
            self.raw_frames[name] = build

    # --- sending -------------------------------------------------------------

    def send_udp(self, cls: Class, s: socket.socket, dest, data: bytes) -> None:
        try:
            s.sendto(data, dest)
            cls.sent += 1
        except BlockingIOError:
            cls.send_errors += 1
        except OSError as e:
            # EMSGSIZE cannot happen below 64 KiB; ECONNREFUSED/ENOBUFS are the kernel's business.
            if e.errno not in (errno.ECONNREFUSED, errno.ENOBUFS, errno.EPERM):
                raise
            cls.send_errors += 1

    def send_one(self, cls: Class) -> None:
        name = cls.name
        if name in self.raw_frames:
            try:
                self.raw.send(self.raw_frames[name]())
                cls.sent += 1
            except (BlockingIOError, OSError):
                cls.send_errors += 1
            return
        if name == "churn":
            if len(self.churn) >= CHURN_RING:
                old, _ = self.churn.pop(0)
                self.close_udp(old)
            family, dest = self.targets[cls.sent % len(self.targets)]
            src = self.source_for(family, self.args.churn_source, self.args.source_v6)
            s = self.open_udp(cls, family, src)
            self.churn.append((s, dest))
            self.send_udp(cls, s, dest, binding())
            return
        socks = self.udp[name]
        s, dest = socks[(cls.sent + cls.send_errors) % len(socks)]
        if name == "flood" or name.startswith("denied_port_"):
            data = binding()
        else:
            data = stun_payloads(name, self.rng)
        self.send_udp(cls, s, dest, data)

    def drain(self) -> None:
        for fd, _ in self.ep.poll(0):
            cls, s = self.sock_class.get(fd, (None, None))
            if s is None:
                continue
            for _ in range(64):
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    break
                except OSError:
                    break
                cls.replies += 1
                if cls.replies_rule == "error420":
                    # 420 Unknown Attribute: Binding Error Response with ERROR-CODE class 4 number 20.
                    ok = len(data) >= 28 and data[:2] == b"\x01\x11"
                    p = pk.parse_stun(data) if ok else None
                    ec = pk.attr(p, pk.ATTR_ERROR_CODE) if p else None
                    if not (ec and len(ec) >= 4 and ec[2] == 4 and ec[3] == 20):
                        cls.bad_replies += 1
                elif cls.replies_rule in ("most", "limited"):
                    if len(data) < 20 or data[:2] != b"\x01\x01":
                        cls.bad_replies += 1

    def run(self) -> dict:
        a = self.args
        start = time.monotonic()
        end = start + min(a.seconds, MAX_SECONDS)
        order = list(self.classes.values())
        while not stop:
            now = time.monotonic()
            if now >= end:
                break
            elapsed = now - start
            for cls in order:
                due = int(cls.pps * elapsed) - (cls.sent + cls.send_errors)
                for _ in range(min(due, MAX_PER_TICK)):
                    self.send_one(cls)
            self.drain()
            time.sleep(max(0.0, TICK_S - (time.monotonic() - now)))
        # Answers still in flight belong to the run.
        t_end = time.monotonic() + 1.0
        while time.monotonic() < t_end:
            self.drain()
            time.sleep(0.02)
        return {
            "mode": a.mode,
            "seconds": round(time.monotonic() - start, 3),
            "rate_pps": a.rate_pps, "rate_burst": a.rate_burst,
            "classes": {n: c.summary() for n, c in self.classes.items()},
            "skipped": self.skipped,
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["socket", "dpdk"], required=True)
    ap.add_argument("--target", action="append", required=True, help="HOST:PORT or [V6]:PORT; repeatable")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--source-v4", help="source address of the STUN-level classes (IPv4)")
    ap.add_argument("--source-v6", help="source address of the STUN-level classes (IPv6)")
    ap.add_argument("--class-pps", type=float, default=40, help="rate of each STUN-level class")
    ap.add_argument("--denied-source")
    ap.add_argument("--denied-ports", default="53,123")
    ap.add_argument("--flood-source")
    ap.add_argument("--flood-pps", type=float, default=0)
    ap.add_argument("--rate-pps", type=int, default=0, help="the server's limits.rate.pps (for the report)")
    ap.add_argument("--rate-burst", type=int, default=0, help="the server's limits.rate.burst (for the report)")
    ap.add_argument("--churn-source")
    ap.add_argument("--churn-pps", type=float, default=0)
    ap.add_argument("--raw-iface")
    ap.add_argument("--raw-dst-mac")
    ap.add_argument("--raw-src-v4")
    ap.add_argument("--raw-dst-v4")
    ap.add_argument("--raw-src-v6")
    ap.add_argument("--raw-dst-v6")
    ap.add_argument("--raw-pps", type=float, default=20, help="rate of each raw-frame class")
    ap.add_argument("--ping-pps", type=float, default=0)
    ap.add_argument("--l3-pps", type=int, default=0, help="the server's limits.l3_pps (for the report)")
    ap.add_argument("--spoof-pps", type=float, default=0)
    ap.add_argument("--stun-port", type=int, default=3478)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    args.denied_ports = [int(p) for p in args.denied_ports.split(",") if p]
    if not 0 < args.seconds <= MAX_SECONDS:
        ap.error(f"--seconds must be in (0, {MAX_SECONDS}]")
    if args.raw_iface and not all((args.raw_dst_mac, args.raw_src_v4, args.raw_dst_v4, args.raw_src_v6, args.raw_dst_v6)):
        ap.error("--raw-iface needs --raw-dst-mac, --raw-src-v4, --raw-dst-v4, --raw-src-v6, --raw-dst-v6")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    h = Hostile(args)
    h.setup()
    result = h.run()
    with open(args.summary, "w") as f:
        json.dump(result, f, indent=1)
    total = sum(c["sent"] for c in result["classes"].values())
    print(f"soak_hostile: {total} datagrams/frames in {len(result['classes'])} classes over {result['seconds']} s"
          + (f"; skipped: {result['skipped']}" if result["skipped"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
