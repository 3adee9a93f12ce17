#!/usr/bin/env python3
"""The real stunbox binary on net_pcap: a pcap of crafted requests in, a pcap of replies out, every reply checked.

Usage: pcap_test.py --stunbox PATH [--keep DIR] | --check-only DIR

Two net_pcap ports in one run: port 0 untagged, port 1 on VLAN 100. Each case
is a frame with its own source MAC, so its reply (addressed back to that MAC)
is found without relying on order. Answered cases have their reply validated
field by field with code independent of stunbox's; dropped cases must have no
reply and the final counters must show exactly the expected drop reasons.
tshark's STUN dissector must then decode every STUN reply the same way.
No root needed. Exit 0 on pass, 1 on failure (every failure printed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from packets import *  # noqa: E402,F403

PORT_MAC = [mac("02:70:63:61:70:00"), mac("02:70:63:61:70:01")]  # net_pcap's fixed MACs: 02 'p' 'c' 'a' 'p' port_id
VLAN = 100
P0_V4, P0_V6, P0_V6B = ip4("198.18.0.2"), ip6("2001:2::2"), ip6("2001:2::3")
P1_V4, P1_V6 = ip4("198.18.1.2"), ip6("2001:2:0:1::2")
# Port 0's RFC 5780 pairs: primary (address, 3478), alternate (address, 3479).
STUN_PORT = 3478
PAIR_V4 = ((ip4("198.18.0.4"), 3478), (ip4("198.18.0.5"), 3479))
PAIR_V6 = ((ip6("2001:2::4"), 3478), (ip6("2001:2::5"), 3479))
CL_V4, CL_V6 = ip4("198.18.0.1"), ip6("2001:2::1")
CL1_V4, CL1_V6 = ip4("198.18.1.1"), ip6("2001:2:0:1::1")
EXIT_AFTER_IDLE_MS = 1500
RUN_TIMEOUT_S = 60
ALL_NODES = ip6("ff02::1")


@dataclass
class Case:
    name: str
    port: int
    frame: bytes
    kind: str  # stun | stun_classic | stun_420 | stun_5780 | stun_5780_classic | arp | na | echo4 | echo6 | drop
    reason: str = ""  # drop reason when kind == drop
    info: dict = field(default_factory=dict)  # what the reply check needs


class Cases:
    def __init__(self) -> None:
        self.cases: list[Case] = []
        self.next_id = 1

    def src_mac(self) -> bytes:
        m = bytes([0x02, 0x00, 0x5E, 0x10, self.next_id >> 8, self.next_id & 0xFF])
        self.next_id += 1
        return m

    def txid(self) -> bytes:
        return struct.pack("!4sQ", b"sbxT", self.next_id * 7919)

    def add(self, name, port, frame, kind, reason="", **info):
        self.cases.append(Case(name, port, frame, kind, reason, info))


def stun_frame(c: Cases, *, port=0, v6=False, vlan=None, sport=None, payload=None, src_ip=None, dst_ip=None,
               dport=STUN_PORT, options=b"", udp_checksum="good", smac=None, dmac=None):
    smac = smac or c.src_mac()
    dmac = dmac or PORT_MAC[port]
    sport = 40000 + c.next_id if sport is None else sport
    if v6:
        s = src_ip or (CL1_V6 if port else CL_V6)
        d = dst_ip or (P1_V6 if port else P0_V6)
        l3 = ipv6(s, d, PROTO_UDP, udp(s, d, sport, dport, payload, v6=True, checksum=udp_checksum))
        return eth(dmac, smac, ETH_IPV6, l3, vlan), smac, s, sport, d
    s = src_ip or (CL1_V4 if port else CL_V4)
    d = dst_ip or (P1_V4 if port else P0_V4)
    l3 = ipv4(s, d, PROTO_UDP, udp(s, d, sport, dport, payload, v6=False, checksum=udp_checksum), options=options)
    return eth(dmac, smac, ETH_IPV4, l3, vlan), smac, s, sport, d


def build_cases() -> list[Case]:
    c = Cases()

    def ok_stun(name, *, port=0, v6=False, vlan=None, fingerprint=False, attrs=(), options=b"",
                udp_checksum="good", kind="stun", classic=False, unknown=None, to=None, source=None, other=None):
        txid = c.txid()
        if classic:
            txid = txid + b"\x01\x02\x03\x04"  # 16 bytes, no magic cookie (RFC 3489)
        msg = stun_msg(BINDING_REQUEST, txid, list(attrs), fingerprint=fingerprint, classic=classic)
        frame, smac, sip, sport, dip = stun_frame(c, port=port, v6=v6, vlan=vlan, payload=msg, options=options,
                                                  udp_checksum=udp_checksum, dst_ip=to and to[0],
                                                  dport=to[1] if to else STUN_PORT)
        c.add(name, port, frame, kind, txid=txid, smac=smac, sip=sip, sport=sport, dip=dip, v6=v6, vlan=vlan,
              fingerprint=fingerprint, unknown=unknown, source=source or (dip, to[1] if to else STUN_PORT),
              other=other)

    # --- answered, port 0 (untagged) ---
    ok_stun("stun v4 binding")
    ok_stun("stun v4 binding with FINGERPRINT", fingerprint=True)
    ok_stun("stun v4 with IP options (reply must have none)", options=b"\x94\x04\x00\x00" + b"\x01\x01\x01\x00")
    ok_stun("stun v4 with zero UDP checksum (none, allowed)", udp_checksum="zero")
    ok_stun("stun v4 with SOFTWARE (comprehension-optional)", attrs=[stun_attr(ATTR_SOFTWARE, b"pcap test")])
    ok_stun("stun v4 ICE-style check", fingerprint=True,
            attrs=[stun_attr(ATTR_USERNAME, b"evtj:h6vY"), stun_attr(ATTR_PRIORITY, b"\x6e\x00\x01\xff"),
                   stun_attr(ATTR_ICE_CONTROLLED, b"\x93\x2f\xf9\xb1\x51\x26\x3b\x36"),
                   stun_attr(ATTR_MI, bytes(20))])
    ok_stun("stun v6 binding", v6=True)
    ok_stun("stun v6 binding with FINGERPRINT", v6=True, fingerprint=True)
    ok_stun("stun classic RFC 3489 v4", kind="stun_classic", classic=True)
    ok_stun("stun unknown comprehension-required attribute -> 420", kind="stun_420",
            attrs=[stun_attr(0x7ABC, b"abcd")], unknown=0x7ABC)
    ok_stun("stun v6 unknown comprehension-required attribute -> 420", v6=True, kind="stun_420",
            attrs=[stun_attr(0x7ABC, b"abcd")], unknown=0x7ABC)

    # --- RFC 5780 on port 0: the reply leaves from the endpoint CHANGE-REQUEST picks ---
    def change(flags):
        return [stun_attr(ATTR_CHANGE_REQUEST, struct.pack("!I", flags))]
    pp4, aa4 = PAIR_V4
    ok_stun("rfc5780 v4 change IP and port: from AA", kind="stun_5780", attrs=change(6), to=pp4, source=aa4,
            other=aa4)
    ok_stun("rfc5780 v4 plain request to AA: OTHER-ADDRESS is PP", kind="stun_5780", fingerprint=True, to=aa4,
            source=aa4, other=pp4)
    ok_stun("rfc5780 v4 classic change IP: from AP", kind="stun_5780_classic", classic=True, attrs=change(4),
            to=pp4, source=(aa4[0], pp4[1]), other=aa4)
    pp6, aa6 = PAIR_V6
    ok_stun("rfc5780 v6 change port: from PA", kind="stun_5780", v6=True, attrs=change(2), to=pp6,
            source=(pp6[0], aa6[1]), other=aa6)

    # --- answered, port 1 (VLAN 100): the reply keeps the tag ---
    ok_stun("stun v4 on VLAN 100", port=1, vlan=VLAN)
    ok_stun("stun v6 on VLAN 100 with FINGERPRINT", port=1, v6=True, vlan=VLAN, fingerprint=True)

    # ARP request for our address (broadcast, padded to 60 bytes like a NIC does)
    def arp_req(name, port, tpa, vlan=None, op=1, kind="arp", reason=""):
        smac = c.src_mac()
        spa = CL1_V4 if port else CL_V4
        frame = eth(BROADCAST, smac, ETH_ARP, arp(op, smac, spa, b"\x00" * 6, tpa), vlan)
        c.add(name, port, frame, kind, reason, smac=smac, spa=spa, tpa=tpa, vlan=vlan)

    arp_req("arp request for 198.18.0.2", 0, P0_V4)
    arp_req("arp request on VLAN 100", 1, P1_V4, vlan=VLAN)

    # Neighbor solicitations (RFC 4861 s4.3)
    def ns(name, target, *, port=0, vlan=None, src=None, dst=None, hop=255, sll=True, kind="na", reason="",
           dmac=None):
        smac = c.src_mac()
        src = (CL1_V6 if port else CL_V6) if src is None else src
        dst = solicited_node(target) if dst is None else dst
        body = ns_body(target, smac if sll else None)
        l3 = ipv6(src, dst, PROTO_ICMP6, icmp6(src, dst, 135, 0, body), hop_limit=hop)
        dmac = dmac or (multicast_mac_v6(dst) if dst[0] == 0xFF else PORT_MAC[port])
        c.add(name, port, eth(dmac, smac, ETH_IPV6, l3, vlan), kind, reason, smac=smac, src=src, target=target,
              vlan=vlan)

    ns("NS to solicited-node multicast for 2001:2::2", P0_V6)
    ns("NS unicast for 2001:2::2", P0_V6, dst=P0_V6)
    ns("DAD NS from :: for 2001:2::3", P0_V6B, src=bytes(16), sll=False)
    ns("NS on VLAN 100", P1_V6, port=1, vlan=VLAN)

    # Echo
    def echo4(name, *, bad=False, type_=8, kind="echo4", reason=""):
        smac = c.src_mac()
        ident, seq = 0x5B00 + c.next_id, 7
        payload = struct.pack("!HH", ident, seq) + b"stunbox-echo-v4!"
        l3 = ipv4(CL_V4, P0_V4, PROTO_ICMP, icmp4(type_, 0, payload, bad_checksum=bad))
        c.add(name, 0, eth(PORT_MAC[0], smac, ETH_IPV4, l3), kind, reason, smac=smac, rest=payload)

    def echo6(name, *, bad=False, type_=128, kind="echo6", reason=""):
        smac = c.src_mac()
        payload = struct.pack("!HH", 0x6B00 + c.next_id, 9) + b"stunbox-echo-v6!"
        l3 = ipv6(CL_V6, P0_V6, PROTO_ICMP6, icmp6(CL_V6, P0_V6, type_, 0, payload, bad_checksum=bad))
        c.add(name, 0, eth(PORT_MAC[0], smac, ETH_IPV6, l3), kind, reason, smac=smac, rest=payload)

    echo4("icmp echo request")
    echo6("icmpv6 echo request")

    # --- dropped: one fault each, with the reason it must be counted under ---
    def drop(name, frame, reason, port=0):
        c.add(name, port, frame, "drop", reason)

    good = stun_msg(BINDING_REQUEST, c.txid())

    def bad_stun(name, payload, reason, **kw):
        frame = stun_frame(c, payload=payload, **kw)[0]
        drop(name, frame, reason, kw.get("port", 0))

    drop("10-byte runt", bytes(10), "eth_too_short")
    bad_stun("unicast MAC not ours", good, "eth_not_ours", dmac=mac("02:00:5e:99:99:99"))
    drop("unknown EtherType", eth(PORT_MAC[0], c.src_mac(), 0x88B5, b"local experimental" * 3), "eth_unsupported_type")
    bad_stun("tagged frame on untagged port", good, "vlan_mismatch", vlan=VLAN)
    bad_stun("untagged frame on VLAN port", good, "vlan_mismatch", port=1)
    bad_stun("wrong VLAN id on VLAN port", good, "vlan_mismatch", port=1, vlan=200)
    bad_stun("stun over UDP to an address not ours", good, "ipv4_not_ours", dst_ip=ip4("198.18.0.99"))
    bad_stun("source loopback", good, "ipv4_bad_source", src_ip=ip4("127.0.0.1"))
    bad_stun("source multicast", good, "ipv4_bad_source", src_ip=ip4("224.0.0.5"))
    bad_stun("source limited broadcast", good, "ipv4_bad_source", src_ip=ip4("255.255.255.255"))
    bad_stun("source is our own address", good, "ipv4_bad_source", src_ip=P0_V4)
    bad_stun("v6 source multicast", good, "ipv6_bad_source", v6=True, src_ip=ip6("ff02::1"))
    bad_stun("v6 source unspecified", good, "ipv6_bad_source", v6=True, src_ip=bytes(16))
    bad_stun("v6 destination not ours", good, "ipv6_not_ours", v6=True, dst_ip=ip6("2001:2::99"))
    bad_stun("UDP checksum wrong v4", good, "udp_bad_checksum", udp_checksum="bad")
    bad_stun("UDP checksum wrong v6", good, "udp_bad_checksum", v6=True, udp_checksum="bad")
    bad_stun("UDP zero checksum v6", good, "udp_zero_checksum_v6", v6=True, udp_checksum="zero")
    bad_stun("UDP port not served", good, "udp_port_not_served", dport=3480)  # 3479 is the RFC 5780 pair's alternate port: served
    bad_stun("UDP source port 0", good, "udp_source_port_zero", sport=0)
    bad_stun("STUN shorter than its header", b"\x00\x01\x00\x00" + MAGIC_B + b"1234", "stun_too_short")
    bad_stun("STUN top bits set", b"\xc0\x01" + good[2:], "stun_bad_top_bits")
    bad_stun("STUN length field wrong", stun_msg(BINDING_REQUEST, c.txid(), length=8), "stun_bad_length")
    bad_stun("STUN attribute past the end",
             stun_msg(BINDING_REQUEST, c.txid(), [struct.pack("!HH", ATTR_SOFTWARE, 40) + b"abcd"]),
             "stun_bad_attribute")
    fp = stun_msg(BINDING_REQUEST, c.txid(), fingerprint=True)
    bad_stun("STUN FINGERPRINT wrong", fp[:-1] + bytes([fp[-1] ^ 0xFF]), "stun_bad_fingerprint")
    # FINGERPRINT valid over what precedes it (length field included), then one more attribute.
    tx_nl = c.txid()
    late = stun_attr(ATTR_SOFTWARE, b"late")
    head = struct.pack("!HH", BINDING_REQUEST, 8 + len(late)) + MAGIC_B + tx_nl
    crc = (zlib.crc32(head) & 0xFFFFFFFF) ^ FINGERPRINT_XOR
    bad_stun("STUN FINGERPRINT not last", head + stun_attr(ATTR_FINGERPRINT, struct.pack("!I", crc)) + late,
             "stun_fingerprint_not_last")
    bad_stun("STUN binding indication", stun_msg(BINDING_INDICATION, c.txid()), "stun_indication")
    bad_stun("STUN success response (no reflection)", stun_msg(BINDING_SUCCESS, c.txid()), "stun_response")
    bad_stun("STUN error response (no reflection)", stun_msg(BINDING_ERROR, c.txid()), "stun_response")
    bad_stun("STUN Allocate request (not Binding)", stun_msg(0x0003, c.txid()), "stun_not_binding")

    # IPv4 / IPv6 layer faults, built by hand
    def v4_udp_frame(**ipkw):
        u = udp(CL_V4, P0_V4, 41000 + c.next_id, STUN_PORT, good, v6=False)
        return eth(PORT_MAC[0], c.src_mac(), ETH_IPV4, ipv4(CL_V4, P0_V4, PROTO_UDP, u, **ipkw))

    drop("IPv4 total length past the frame", v4_udp_frame(total_length=200), "ipv4_malformed")
    drop("IPv4 header checksum wrong", v4_udp_frame(bad_checksum=True), "ipv4_bad_checksum")
    drop("IPv4 first fragment (MF)", v4_udp_frame(flags_frag=0x2000), "ipv4_fragment")
    drop("IPv4 later fragment (offset)", v4_udp_frame(flags_frag=0x0010), "ipv4_fragment")
    drop("IPv4 TCP", eth(PORT_MAC[0], c.src_mac(), ETH_IPV4, ipv4(CL_V4, P0_V4, PROTO_TCP, bytes(20))),
         "ipv4_unsupported_proto")
    udp_len_bad = udp(CL_V4, P0_V4, 41234, STUN_PORT, good, v6=False, length=8 + len(good) + 40)
    drop("UDP length past the IP payload",
         eth(PORT_MAC[0], c.src_mac(), ETH_IPV4, ipv4(CL_V4, P0_V4, PROTO_UDP, udp_len_bad)), "udp_malformed")
    u6 = udp(CL_V6, P0_V6, 41235, STUN_PORT, good, v6=True)
    drop("IPv6 payload length past the frame",
         eth(PORT_MAC[0], c.src_mac(), ETH_IPV6, ipv6(CL_V6, P0_V6, PROTO_UDP, u6, payload_length=len(u6) + 64)),
         "ipv6_malformed")
    hbh = bytes([PROTO_UDP, 0, 1, 4, 0, 0, 0, 0])  # hop-by-hop header: PadN only
    drop("IPv6 hop-by-hop extension header",
         eth(PORT_MAC[0], c.src_mac(), ETH_IPV6, ipv6(CL_V6, P0_V6, 0, hbh + u6)), "ipv6_extension_header")
    drop("IPv6 TCP", eth(PORT_MAC[0], c.src_mac(), ETH_IPV6, ipv6(CL_V6, P0_V6, PROTO_TCP, bytes(20))),
         "ipv6_unsupported_proto")

    # ARP / NDP / ICMP faults
    arp_req("ARP reply (not a request)", 0, P0_V4, op=2, kind="drop", reason="arp_not_request")
    arp_req("ARP request for an address not ours", 0, ip4("198.18.0.77"), kind="drop", reason="arp_not_ours")
    ns("NS with hop limit 64 (RFC 4861 s7.1.1)", P0_V6, dst=P0_V6, hop=64, kind="drop", reason="ndp_invalid")
    ns("NS for an address not ours", ip6("2001:2::99"), dst=P0_V6, kind="drop", reason="ndp_not_ours")
    echo4("ICMP echo with a wrong checksum", bad=True, kind="drop", reason="icmp_bad_checksum")
    echo4("ICMP timestamp request", type_=13, kind="drop", reason="icmp_not_echo_request")
    echo6("ICMPv6 echo with a wrong checksum", bad=True, kind="drop", reason="icmp6_bad_checksum")
    echo6("ICMPv6 echo reply (not a request)", type_=129, kind="drop", reason="icmp6_unsupported_type")

    # Truncated at each layer (no Ethernet padding, so the cut is real)
    whole = v4_udp_frame()
    drop("cut inside the IPv4 header", whole[:14 + 12], "ipv4_malformed")
    drop("UDP header of 4 bytes",
         eth(PORT_MAC[0], c.src_mac(), ETH_IPV4, ipv4(CL_V4, P0_V4, PROTO_UDP, b"\x9c\x40\x0d\x96"), pad=False),
         "udp_malformed")
    drop("cut inside the IPv6 header", stun_frame(c, v6=True, payload=good)[0][:14 + 30], "ipv6_malformed")
    drop("ARP cut short", eth(BROADCAST, c.src_mac(), ETH_ARP, arp(1, bytes(6), CL_V4, bytes(6), P0_V4)[:20],
                              pad=False), "arp_malformed")
    drop("ICMP echo of 4 bytes",
         eth(PORT_MAC[0], c.src_mac(), ETH_IPV4, ipv4(CL_V4, P0_V4, PROTO_ICMP, b"\x08\x00\xf7\xff"), pad=False),
         "icmp_malformed")
    drop("ICMPv6 message of 2 bytes",
         eth(PORT_MAC[0], c.src_mac(), ETH_IPV6, ipv6(CL_V6, P0_V6, PROTO_ICMP6, b"\x80\x00"), pad=False),
         "icmp6_malformed")
    return c.cases


# --- reply checks --------------------------------------------------------------


class Failures:
    def __init__(self) -> None:
        self.items: list[str] = []

    def check(self, cond: bool, what: str) -> bool:
        if not cond:
            self.items.append(what)
        return cond


def check_l2(f: Failures, name: str, r: Frame, case: Case, expect_dst: bytes) -> None:
    f.check(r.dst == expect_dst, f"{name}: reply Ethernet dst {mac_text(r.dst)}, expected {mac_text(expect_dst)}")
    f.check(r.src == PORT_MAC[case.port], f"{name}: reply Ethernet src {mac_text(r.src)} is not the port's MAC")
    f.check(r.vlan == case.info.get("vlan"), f"{name}: reply VLAN {r.vlan}, expected {case.info.get('vlan')}")


def check_stun_reply(f: Failures, case: Case, raw: bytes) -> None:
    n, i = case.name, case.info
    try:
        r = parse_frame(raw)
    except ValueError as e:
        f.check(False, f"{n}: reply does not parse: {e}")
        return
    check_l2(f, n, r, case, i["smac"])
    if not f.check(r.ethertype == (ETH_IPV6 if i["v6"] else ETH_IPV4) and r.proto == PROTO_UDP,
                   f"{n}: reply is not UDP over IPv{6 if i['v6'] else 4}"):
        return
    if not i["v6"]:
        f.check(r.ihl == 20, f"{n}: reply IPv4 header is {r.ihl} bytes, options must not be echoed")
    f.check(r.ttl == 64, f"{n}: reply TTL/hop limit {r.ttl}, expected 64")
    src_ip, src_port = i["source"]
    f.check(r.ip_src == src_ip and r.ip_dst == i["sip"],
            f"{n}: reply addresses {ip_text(r.ip_src)} -> {ip_text(r.ip_dst)} not swapped (expected "
            f"{ip_text(src_ip)} -> {ip_text(i['sip'])})")
    u = r.ip_payload
    if not f.check(len(u) >= 8, f"{n}: UDP header truncated"):
        return
    sport, dport, ulen, ucs = struct.unpack_from("!HHHH", u, 0)
    f.check(sport == src_port and dport == i["sport"], f"{n}: reply ports {sport} -> {dport} not swapped "
                                                       f"(expected {src_port} -> {i['sport']})")
    f.check(ulen == len(u), f"{n}: UDP length {ulen}, IP payload {len(u)}")
    f.check(ucs != 0 and l4_checksum_ok(r), f"{n}: reply UDP checksum {ucs:#06x} invalid")
    try:
        s = parse_stun(u[8:ulen])
    except ValueError as e:
        f.check(False, f"{n}: reply STUN malformed: {e}")
        return
    if case.kind.startswith("stun_5780"):
        # RFC 5780 s7.3-4 / RFC 3489 s11.2.3-4: where the reply comes from, and the diagonal endpoint.
        classic = case.kind == "stun_5780_classic"
        for t, want, what in ((ATTR_SOURCE_ADDRESS if classic else ATTR_RESPONSE_ORIGIN, i["source"], "origin"),
                              (ATTR_CHANGED_ADDRESS if classic else ATTR_OTHER_ADDRESS, i["other"], "other")):
            a = attr(s, t)
            got = decode_address(a) if a is not None else None
            f.check(got == want, f"{n}: {what} attribute {t:#06x} = {got}, expected {want}")
    if case.kind in ("stun_classic", "stun_5780_classic"):
        f.check(s.classic and s.txid == i["txid"], f"{n}: classic reply does not echo the 16-byte id")
        f.check(s.type == BINDING_SUCCESS, f"{n}: reply type {s.type:#06x}")
        f.check(s.fingerprint_ok is None, f"{n}: classic reply must not carry FINGERPRINT")
        ma = attr(s, ATTR_MAPPED)
        if f.check(ma is not None, f"{n}: classic reply has no MAPPED-ADDRESS"):
            f.check(decode_address(ma) == (i["sip"], i["sport"]), f"{n}: MAPPED-ADDRESS {decode_address(ma)}")
        return
    f.check(not s.classic and s.txid == i["txid"], f"{n}: reply transaction id differs from the request's")
    if case.kind == "stun_420":
        f.check(s.type == BINDING_ERROR, f"{n}: reply type {s.type:#06x}, expected 0x0111")
        ec = attr(s, ATTR_ERROR_CODE)
        f.check(ec is not None and len(ec) >= 4 and ec[2] == 4 and ec[3] == 20, f"{n}: ERROR-CODE is not 420")
        ua = attr(s, ATTR_UNKNOWN)
        types = [struct.unpack_from("!H", ua, k)[0] for k in range(0, len(ua) - 1, 2)] if ua else []
        f.check(i["unknown"] in types, f"{n}: UNKNOWN-ATTRIBUTES {types} lacks {i['unknown']:#06x}")
        return
    f.check(s.type == BINDING_SUCCESS, f"{n}: reply type {s.type:#06x}, expected 0x0101")
    xa = attr(s, ATTR_XOR_MAPPED)
    if f.check(xa is not None, f"{n}: no XOR-MAPPED-ADDRESS"):
        try:
            got = decode_xor_address(xa, s.txid)
            f.check(got == (i["sip"], i["sport"]),
                    f"{n}: XOR-MAPPED-ADDRESS {ip_text(got[0])}:{got[1]}, expected {ip_text(i['sip'])}:{i['sport']}")
        except ValueError as e:
            f.check(False, f"{n}: {e}")
    if i["fingerprint"]:
        f.check(s.fingerprint_ok is True, f"{n}: FINGERPRINT missing or wrong (policy mirror)")
    else:
        f.check(s.fingerprint_ok is None, f"{n}: FINGERPRINT present though the request had none")


def check_arp_reply(f: Failures, case: Case, raw: bytes) -> None:
    n, i = case.name, case.info
    r = parse_frame(raw)
    check_l2(f, n, r, case, i["smac"])
    a = r.l3
    if not f.check(r.ethertype == ETH_ARP and len(a) >= 28, f"{n}: reply is not ARP"):
        return
    htype, ptype, hlen, plen, op = struct.unpack_from("!HHBBH", a, 0)
    f.check((htype, ptype, hlen, plen, op) == (1, ETH_IPV4, 6, 4, 2), f"{n}: ARP header {htype,ptype,hlen,plen,op}")
    f.check(a[8:14] == PORT_MAC[case.port] and a[14:18] == i["tpa"], f"{n}: ARP sender is not our MAC/IP")
    f.check(a[18:24] == i["smac"] and a[24:28] == i["spa"], f"{n}: ARP target is not the requester")


def check_na(f: Failures, case: Case, raw: bytes, dad: bool) -> None:
    n, i = case.name, case.info
    r = parse_frame(raw)
    check_l2(f, n, r, case, multicast_mac_v6(ALL_NODES) if dad else i["smac"])
    if not f.check(r.v6 and r.proto == PROTO_ICMP6, f"{n}: reply is not ICMPv6"):
        return
    m = r.ip_payload
    f.check(r.ttl == 255, f"{n}: NA hop limit {r.ttl}, RFC 4861 s7.1.2 needs 255")
    f.check(r.ip_src == i["target"], f"{n}: NA source {ip_text(r.ip_src)} is not the target")
    f.check(r.ip_dst == (ALL_NODES if dad else i["src"]), f"{n}: NA destination {ip_text(r.ip_dst)}")
    f.check(l4_checksum_ok(r), f"{n}: NA checksum invalid")
    if not f.check(len(m) >= 24 and m[0] == 136 and m[1] == 0, f"{n}: not a Neighbor Advertisement"):
        return
    flags = m[4]
    f.check(not flags & 0x80, f"{n}: Router flag set")
    f.check(bool(flags & 0x40) == (not dad), f"{n}: Solicited flag {bool(flags & 0x40)} (DAD: {dad})")
    f.check(bool(flags & 0x20), f"{n}: Override flag not set")
    f.check(m[8:24] == i["target"], f"{n}: NA target {ip_text(m[8:24])}")
    f.check(m[24:26] == b"\x02\x01" and m[26:32] == PORT_MAC[case.port], f"{n}: no target link-layer option with our MAC")


def check_echo(f: Failures, case: Case, raw: bytes, v6: bool) -> None:
    n, i = case.name, case.info
    r = parse_frame(raw)
    check_l2(f, n, r, case, i["smac"])
    m = r.ip_payload
    if not f.check(r.proto == (PROTO_ICMP6 if v6 else PROTO_ICMP) and len(m) >= 8, f"{n}: reply is not ICMP"):
        return
    f.check(m[0] == (129 if v6 else 0) and m[1] == 0, f"{n}: reply type {m[0]}")
    f.check(m[4:] == i["rest"], f"{n}: identifier/sequence/data not echoed")
    f.check(l4_checksum_ok(r), f"{n}: reply checksum invalid")
    f.check(r.ip_src == (P0_V6 if v6 else P0_V4) and r.ip_dst == (CL_V6 if v6 else CL_V4), f"{n}: addresses not swapped")


def is_announcement(raw: bytes, port: int) -> str | None:
    """A gratuitous ARP, unsolicited NA or MLDv2 report the port sends at start (allowed, not a reply)."""
    # The MLDv2 report (RFC 3810 s6.1): to 33:33:00:00:00:16 / ff02::16, a Hop-by-Hop header
    # (next header 0 at IPv6 offset 6) before ICMPv6 type 143 (parse_frame stops at Hop-by-Hop).
    l2 = 18 if raw[12:14] == b"\x81\x00" else 14
    if (raw[:6] == bytes.fromhex("333300000016") and raw[6:12] == PORT_MAC[port] and len(raw) >= l2 + 56
            and raw[l2 - 2:l2] == b"\x86\xdd" and raw[l2 + 6] == 0 and raw[l2 + 40] == 58 and raw[l2 + 48] == 143):
        return f"mld:port{port}"
    try:
        r = parse_frame(raw)
    except ValueError:
        return None
    if r.src != PORT_MAC[port] or r.dst not in (BROADCAST, multicast_mac_v6(ALL_NODES)):
        return None
    if r.ethertype == ETH_ARP and len(r.l3) >= 28 and r.l3[14:18] == r.l3[24:28]:
        return "garp:" + ip_text(r.l3[14:18])
    if r.v6 and r.proto == PROTO_ICMP6 and r.ip_payload[:1] == b"\x88" and r.ip_dst == ALL_NODES:
        return "na:" + ip_text(r.ip_payload[8:24])
    return None


# --- running the binary --------------------------------------------------------


def write_config(path: str, work: str) -> None:
    def dev(p):
        return f"net_pcap{p},rx_pcap={work}/in{p}.pcap,tx_pcap={work}/out{p}.pcap"

    with open(path, "w") as fh:
        fh.write(f"""# generated by tests/pcap/pcap_test.py
mode: dpdk
stun:
  ports: [{STUN_PORT}]
  rfc5780:
    - {{primary: "198.18.0.4:3478", alternate: "198.18.0.5:3479"}}
    - {{primary: "[2001:2::4]:3478", alternate: "[2001:2::5]:3479"}}
  fingerprint: mirror
  classic: true
dpdk:
  # lcore 0 = main, lcore 1 = the worker; both on CPU 0 so one vCPU suffices.
  eal: ["--no-pci", "--no-huge", "-m", "256", "--no-shconf", "--lcores", "0@0,1@0", "--log-level", "pmd.net.pcap:info"]
  ports:
    - device: "{dev(0)}"
      queues: 1
      addresses: ["198.18.0.2/24", "198.18.0.4/24", "198.18.0.5/24", "2001:2::2/64", "2001:2::3/64", "2001:2::4/64",
                  "2001:2::5/64"]
    - device: "{dev(1)}"
      queues: 1
      vlan: {VLAN}
      addresses: ["198.18.1.2/24", "2001:2:0:1::2/64"]
  idle: adaptive
  # exit_after_idle_ms comes from --set on the command line (run_stunbox).
""")


def parse_final(stdout: str) -> tuple[dict[str, int], dict[str, int], dict[tuple[int, int], tuple[int, int, int]]]:
    """(counters, drops, per-queue {(port, queue): (rx, tx, drops)}) from the final counters block."""
    tail = stdout.split("stunbox: final counters", 1)
    if len(tail) != 2:
        return {}, {}, {}
    counters, drops, queues = {}, {}, {}
    for line in tail[1].splitlines():
        m = re.match(r"^\s+drop (\w+)\s+(\d+)\s*$", line)
        if m:
            drops[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r"^\s+port (\d+) queue (\d+) lcore \d+: rx (\d+) tx (\d+) drops (\d+)", line)
        if m:
            queues[(int(m.group(1)), int(m.group(2)))] = (int(m.group(3)), int(m.group(4)), int(m.group(5)))
            continue
        m = re.match(r"^\s+(\w+)\s+(\d+)(\s|$)", line)
        if m:
            counters[m.group(1)] = int(m.group(2))
    return counters, drops, queues


def run_stunbox(exe: str, config: str, work: str) -> tuple[int, str, str]:
    # Stop by itself once the rx pcaps are consumed and nothing arrived for a while.
    cmd = [exe, "-c", config, "--set", f"dpdk.exit_after_idle_ms={EXIT_AFTER_IDLE_MS}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=work, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # exit_after_idle_ms did not stop it: ask, then insist; only our own child.
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        return -999, out, err + f"\n(timed out after {RUN_TIMEOUT_S}s: exit_after_idle_ms did not stop it)"
    return proc.returncode, out, err


def tshark_check(f: Failures, work: str, expected: dict[bytes, Case], port: int) -> int:
    """Every STUN reply decoded by tshark as the right message type with the right mapped address."""
    path = f"{work}/out{port}.pcap"
    seen = 0
    for proto in ("stun", "classicstun"):
        fields = ["frame.number", f"{proto}.type", f"{proto}.id", f"{proto}.att.ipv4", f"{proto}.att.ipv6",
                  f"{proto}.att.port"]
        if proto == "stun":
            fields += ["stun.att.crc32.status", "stun.att.error.class", "stun.att.error", "stun.att.type"]
        cmd = ["tshark", "-n", "-r", path, "-Y", proto, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
               "-E", "aggregator=,"] + sum((["-e", x] for x in fields), [])
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if not f.check(res.returncode == 0, f"tshark failed on {path}: {res.stderr.strip()}"):
            return 0
        for line in res.stdout.splitlines():
            cols = line.split("\t")
            cols += [""] * (len(fields) - len(cols))
            txid = bytes.fromhex(cols[2])
            case = expected.get(txid)
            if not f.check(case is not None, f"tshark: {path} frame {cols[0]}: STUN id {cols[2]} matches no request"):
                continue
            seen += 1
            n, i = case.name, case.info
            want_type = "0x0111" if case.kind == "stun_420" else "0x0101"
            f.check(cols[1] == want_type, f"tshark: {n}: type {cols[1]}, expected {want_type}")
            if case.kind == "stun_420":
                f.check(cols[7] == "4" and cols[8] == "20", f"tshark: {n}: error {cols[7]}/{cols[8]}, expected 4/20")
                continue
            addr = cols[4] if i["v6"] else cols[3]
            f.check(addr.split(",")[0] == ip_text(i["sip"]),
                    f"tshark: {n}: mapped address {addr!r}, expected {ip_text(i['sip'])}")
            f.check(cols[5].split(",")[0] == str(i["sport"]),
                    f"tshark: {n}: mapped port {cols[5]!r}, expected {i['sport']}")
            if proto == "stun" and i["fingerprint"]:
                f.check(cols[6] == "1", f"tshark: {n}: FINGERPRINT status {cols[6]!r}, expected good (1)")
            if case.kind == "stun_5780":
                # tshark's dissector decodes RESPONSE-ORIGIN and OTHER-ADDRESS: addresses 2 and 3, in order.
                types = [int(t, 16) for t in cols[9].split(",") if t]
                f.check(ATTR_RESPONSE_ORIGIN in types and ATTR_OTHER_ADDRESS in types,
                        f"tshark: {n}: attribute types {cols[9]!r} lack RESPONSE-ORIGIN / OTHER-ADDRESS")
                addrs, ports = addr.split(","), cols[5].split(",")
                want = [ip_text(i["source"][0]), ip_text(i["other"][0])]
                f.check(addrs[1:3] == want and ports[1:3] == [str(i["source"][1]), str(i["other"][1])],
                        f"tshark: {n}: RESPONSE-ORIGIN, OTHER-ADDRESS decoded as {addrs[1:3]} {ports[1:3]}, "
                        f"expected {want} {[i['source'][1], i['other'][1]]}")
    return seen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stunbox")
    ap.add_argument("--check-only", metavar="DIR", help="only check the files an earlier --keep DIR run left")
    ap.add_argument("--no-tshark", action="store_true", help="skip the tshark decoding (checker self-test speed)")
    ap.add_argument("--keep", help="keep the work files in this directory")
    args = ap.parse_args()
    if not args.stunbox and not args.check_only:
        ap.error("--stunbox is required")
    exe = os.path.abspath(args.stunbox or "")
    if shutil.which("tshark") is None:
        print("pcap_test: tshark not installed (apt-get install tshark)")
        return 1

    if args.check_only:
        # Re-check the files of an earlier --keep run (the checker's self-test mutates them).
        work = args.check_only
        cases = build_cases()
        with open(f"{work}/stdout.txt") as fh:
            out = fh.read()
        with open(f"{work}/rc.txt") as fh:
            rc = int(fh.read())
    else:
        work = args.keep or tempfile.mkdtemp(prefix="stunbox-pcap-")
        os.makedirs(work, exist_ok=True)
        cases = build_cases()
        for p in (0, 1):
            write_pcap(f"{work}/in{p}.pcap", [c.frame for c in cases if c.port == p])
        config = f"{work}/pcap.yaml"
        write_config(config, work)
        print(f"pcap_test: {len(cases)} frames ({sum(c.kind != 'drop' for c in cases)} answered), work dir {work}")
        t0 = time.monotonic()
        rc, out, err = run_stunbox(exe, config, work)
        print(f"pcap_test: stunbox exited {rc} after {time.monotonic() - t0:.1f}s")
        with open(f"{work}/stdout.txt", "w") as fh:
            fh.write(out)
        with open(f"{work}/rc.txt", "w") as fh:
            fh.write(str(rc))
        if rc != 0:
            print("--- stdout\n" + out + "--- stderr\n" + err)
    f = Failures()
    f.check(rc == 0, f"stunbox exit code {rc}")
    f.check("stunbox: ready" in out, "no 'stunbox: ready' line on stdout")
    # The frames were addressed to net_pcap's fixed MACs: say so plainly if that changed.
    for p in (0, 1):
        m = re.search(rf"net_pcap{p} driver net_pcap mac ([0-9a-f:]+)", out)
        if m:
            f.check(m.group(1) == mac_text(PORT_MAC[p]),
                    f"net_pcap{p} has MAC {m.group(1)}, the frames were built for {mac_text(PORT_MAC[p])}")

    # Replies: matched by Ethernet destination (each case has its own source MAC).
    answered = {c.info["smac"]: c for c in cases if c.kind != "drop"}
    dad_cases = [c for c in cases if c.kind == "na" and c.info["src"] == bytes(16)]
    got: Counter = Counter()
    announcements: Counter = Counter()
    dad_nas: Counter = Counter()
    for p in (0, 1):
        path = f"{work}/out{p}.pcap"
        if not f.check(os.path.exists(path), f"{path} was not written"):
            continue
        frames = read_pcap(path)
        for raw in frames:
            dst = raw[:6]
            case = answered.get(dst)
            if case is None:
                ann = is_announcement(raw, p)
                dad = [c for c in dad_cases if c.port == p and ann == "na:" + ip_text(c.info["target"])]
                if dad:
                    # The DAD answer and a start-up NA for that target look alike
                    # (both S=0 to ff02::1): counted together below.
                    dad_nas[dad[0].name] += 1
                    check_na(f, dad[0], raw, dad=True)
                elif ann is not None:
                    announcements[ann] += 1
                else:
                    f.check(False, f"out{p}.pcap: unexpected frame to {mac_text(dst)}: {raw[:64].hex()}")
                continue
            got[case.name] += 1
            f.check(case.port == p, f"{case.name}: reply left on port {p}, request came in on {case.port}")
            if case.kind.startswith("stun"):
                check_stun_reply(f, case, raw)
            elif case.kind == "arp":
                check_arp_reply(f, case, raw)
            elif case.kind == "na":
                check_na(f, case, raw, dad=False)
            elif case.kind in ("echo4", "echo6"):
                check_echo(f, case, raw, case.kind == "echo6")

    # The DAD target must get exactly one NA more than another owned address
    # got at start (0 or 1 start-up announcements per address).
    base = announcements.get("na:" + ip_text(P0_V6), 0)
    for c in dad_cases:
        f.check(dad_nas[c.name] == base + 1, f"{c.name}: {dad_nas[c.name]} NA(s) to ff02::1 for the DAD target, "
                                             f"expected {base + 1} (start-up NAs for 2001:2::2: {base})")
        got[c.name] = 1 if dad_nas[c.name] == base + 1 else 0
    for c in cases:
        if c.kind != "drop":
            f.check(got[c.name] == 1, f"{c.name}: {got[c.name]} replies, expected exactly 1")
    for ann, n in announcements.items():
        f.check(n == 1, f"start-up announcement {ann} sent {n} times")

    # Counters: every frame received, every answer counted, each drop under its reason.
    counters, drops, queues = parse_final(out)
    if f.check(bool(counters), "no 'stunbox: final counters' block on stdout"):
        n_in = [sum(c.port == p for c in cases) for p in (0, 1)]
        kinds = Counter(c.kind for c in cases)
        expect_counters = {
            "rx_packets": len(cases),
            "stun_success": kinds["stun"] + kinds["stun_classic"] + kinds["stun_5780"] + kinds["stun_5780_classic"],
            "stun_change_ip": 1,
            "stun_change_port": 1,
            "stun_change_ip_port": 1,
            "stun_error": kinds["stun_420"],
            "stun_classic_requests": kinds["stun_classic"] + kinds["stun_5780_classic"],
            "arp_replies": kinds["arp"],
            "ndp_adverts": kinds["na"],
            "icmp_echo_replies": kinds["echo4"],
            "icmp6_echo_replies": kinds["echo6"],
        }
        for k, v in expect_counters.items():
            f.check(counters.get(k) == v, f"counter {k} = {counters.get(k)}, expected {v}")
        expect_drops = Counter(c.reason for c in cases if c.kind == "drop")
        for reason in sorted(set(expect_drops) | set(drops)):
            f.check(drops.get(reason, 0) == expect_drops.get(reason, 0),
                    f"drop {reason} = {drops.get(reason, 0)}, expected {expect_drops.get(reason, 0)} "
                    f"({', '.join(c.name for c in cases if c.reason == reason) or 'none'})")
        for p in (0, 1):
            q = queues.get((p, 0))
            if f.check(q is not None, f"no per-queue line for port {p} queue 0"):
                f.check(q[0] == n_in[p], f"port {p} queue 0: rx {q[0]}, expected {n_in[p]}")

    # tshark's STUN dissectors must agree with the checks above.
    stun_cases = {c.info["txid"]: c for c in cases if c.kind.startswith("stun")}
    seen = 0
    if not args.no_tshark:
        seen = sum(tshark_check(f, work, stun_cases, p) for p in (0, 1) if os.path.exists(f"{work}/out{p}.pcap"))
        f.check(seen == len(stun_cases), f"tshark decoded {seen} STUN replies, expected {len(stun_cases)}")

    n_ok = sum(1 for c in cases if not any(x.startswith(c.name + ":") for x in f.items))
    print(f"pcap_test: {n_ok}/{len(cases)} cases clean, {len(announcements)} start-up announcement(s), "
          f"tshark decoded {seen} STUN replies")
    if f.items:
        for x in f.items:
            print("FAIL " + x)
        print(f"pcap_test: {len(f.items)} failure(s); files kept in {work}")
        return 1
    if not args.keep and not args.check_only:
        shutil.rmtree(work, ignore_errors=True)
    print("pcap_test: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
