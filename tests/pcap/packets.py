"""Frame building and parsing for the net_pcap test: Ethernet, 802.1Q, ARP, IPv4, IPv6, UDP, ICMP, NDP, STUN, and the pcap file format.

Python 3 standard library only. Independent of stunbox's own code on purpose:
the checks here must not share a bug with the code under test.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from dataclasses import dataclass, field

# --- pcap file format (libpcap classic, microsecond, LINKTYPE_ETHERNET) -----

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
LINKTYPE_ETHERNET = 1


def write_pcap(path: str, frames: list[bytes]) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC_US, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for i, frame in enumerate(frames):
            # Distinct timestamps keep tools' displays readable; the PMD ignores them.
            f.write(struct.pack("<IIII", 1_700_000_000, i, len(frame), len(frame)))
            f.write(frame)


def read_pcap(path: str) -> list[bytes]:
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: {len(data)} bytes, shorter than a pcap header")
    magic_le = struct.unpack_from("<I", data, 0)[0]
    if magic_le in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
        endian = "<"
    elif struct.unpack_from(">I", data, 0)[0] in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file (magic {magic_le:#x})")
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    if linktype != LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: link type {linktype}, expected Ethernet")
    frames = []
    off = 24
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError(f"{path}: truncated record header at {off}")
        _, _, incl, orig = struct.unpack_from(endian + "IIII", data, off)
        off += 16
        if incl != orig or off + incl > len(data):
            raise ValueError(f"{path}: truncated record at {off} (incl {incl}, orig {orig})")
        frames.append(data[off : off + incl])
        off += incl
    return frames


# --- checksums ---------------------------------------------------------------


def inet_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def inet_csum(data: bytes) -> int:
    """RFC 1071 Internet checksum (the value to put in the field)."""
    return (~inet_sum(data)) & 0xFFFF


def pseudo_v4(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    return src + dst + struct.pack("!BBH", 0, proto, length)


def pseudo_v6(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    return src + dst + struct.pack("!I3xB", length, proto)


# --- addresses ---------------------------------------------------------------


def mac(text: str) -> bytes:
    return bytes(int(x, 16) for x in text.split(":"))


def mac_text(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def ip4(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def ip6(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def ip_text(b: bytes) -> str:
    return str(ipaddress.ip_address(b))


def solicited_node(addr: bytes) -> bytes:
    return ip6("ff02::1:ff00:0")[:13] + addr[13:]


def multicast_mac_v6(addr: bytes) -> bytes:
    return b"\x33\x33" + addr[12:]


BROADCAST = b"\xff" * 6
ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMP6 = 1, 6, 17, 58

# --- builders ----------------------------------------------------------------


def eth(dst: bytes, src: bytes, ethertype: int, payload: bytes, vlan: int | None = None, pad: bool = True) -> bytes:
    if vlan is None:
        frame = dst + src + struct.pack("!H", ethertype) + payload
    else:
        frame = dst + src + struct.pack("!HHH", ETH_VLAN, vlan & 0x0FFF, ethertype) + payload
    # Ethernet minimum frame (without FCS) is 60 bytes: a NIC pads short ones.
    if pad and len(frame) < 60:
        frame += b"\x00" * (60 - len(frame))
    return frame


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, *, ttl: int = 64, options: bytes = b"",
         flags_frag: int = 0x4000, ident: int = 0x1234, total_length: int | None = None,
         bad_checksum: bool = False) -> bytes:
    assert len(options) % 4 == 0
    ihl = 5 + len(options) // 4
    tl = ihl * 4 + len(payload) if total_length is None else total_length
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tl, ident, flags_frag, ttl, proto, 0, src, dst) + options
    csum = inet_csum(hdr)
    if bad_checksum:
        csum ^= 0x5A5A
    hdr = hdr[:10] + struct.pack("!H", csum) + hdr[12:]
    return hdr + payload


def ipv6(src: bytes, dst: bytes, next_header: int, payload: bytes, *, hop_limit: int = 64,
         payload_length: int | None = None) -> bytes:
    pl = len(payload) if payload_length is None else payload_length
    return struct.pack("!IHBB", 0x60000000, pl, next_header, hop_limit) + src + dst + payload


def udp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes, *, v6: bool,
        checksum: str = "good", length: int | None = None) -> bytes:
    """checksum: good | bad | zero."""
    ulen = 8 + len(payload) if length is None else length
    seg = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    if checksum == "zero":
        return seg
    ph = (pseudo_v6 if v6 else pseudo_v4)(src, dst, PROTO_UDP, 8 + len(payload))
    c = inet_csum(ph + seg)
    if c == 0:
        c = 0xFFFF  # RFC 768: a computed zero is sent as all ones
    if checksum == "bad":
        c ^= 0x00FF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp4(type_: int, code: int, rest: bytes, *, bad_checksum: bool = False) -> bytes:
    msg = struct.pack("!BBH", type_, code, 0) + rest
    c = inet_csum(msg) ^ (0x1111 if bad_checksum else 0)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def icmp6(src: bytes, dst: bytes, type_: int, code: int, rest: bytes, *, bad_checksum: bool = False) -> bytes:
    msg = struct.pack("!BBH", type_, code, 0) + rest
    c = inet_csum(pseudo_v6(src, dst, PROTO_ICMP6, len(msg)) + msg) ^ (0x1111 if bad_checksum else 0)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def arp(op: int, sha: bytes, spa: bytes, tha: bytes, tpa: bytes) -> bytes:
    return struct.pack("!HHBBH", 1, ETH_IPV4, 6, 4, op) + sha + spa + tha + tpa


def ns_body(target: bytes, sll_addr: bytes | None = None) -> bytes:
    body = b"\x00\x00\x00\x00" + target
    if sll_addr is not None:
        body += b"\x01\x01" + sll_addr  # Source Link-Layer Address option, 8 bytes
    return body


# --- STUN --------------------------------------------------------------------

MAGIC = 0x2112A442
MAGIC_B = struct.pack("!I", MAGIC)
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
BINDING_INDICATION = 0x0011
ATTR_MAPPED = 0x0001
ATTR_USERNAME = 0x0006
ATTR_MI = 0x0008
ATTR_ERROR_CODE = 0x0009
ATTR_UNKNOWN = 0x000A
ATTR_XOR_MAPPED = 0x0020
ATTR_PRIORITY = 0x0024
ATTR_SOFTWARE = 0x8022
ATTR_FINGERPRINT = 0x8028
ATTR_ICE_CONTROLLED = 0x8029
ATTR_CHANGE_REQUEST = 0x0003
ATTR_SOURCE_ADDRESS = 0x0004
ATTR_CHANGED_ADDRESS = 0x0005
ATTR_RESPONSE_ORIGIN = 0x802B
ATTR_OTHER_ADDRESS = 0x802C
FINGERPRINT_XOR = 0x5354554E


def stun_attr(type_: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack("!HH", type_, len(value)) + value + b"\x00" * pad


def stun_msg(type_: int, txid: bytes, attrs: list[bytes] = (), *, fingerprint: bool = False,
             classic: bool = False, length: int | None = None) -> bytes:
    """A STUN message; txid is 12 bytes (16 when classic, which has no cookie)."""
    body = b"".join(attrs)
    head_id = txid if classic else MAGIC_B + txid
    assert len(head_id) == 16
    if fingerprint:
        msg_len = len(body) + 8
        pre = struct.pack("!HH", type_, msg_len) + head_id + body
        crc = (zlib.crc32(pre) & 0xFFFFFFFF) ^ FINGERPRINT_XOR
        body += stun_attr(ATTR_FINGERPRINT, struct.pack("!I", crc))
    ml = len(body) if length is None else length
    return struct.pack("!HH", type_, ml) + head_id + body


@dataclass
class StunParsed:
    type: int
    txid: bytes  # 12 bytes (16 for classic: cookie position included)
    classic: bool
    attrs: list[tuple[int, bytes]] = field(default_factory=list)
    fingerprint_ok: bool | None = None  # None = no FINGERPRINT


def parse_stun(data: bytes) -> StunParsed:
    """Strict parse of a response; raises ValueError naming what is wrong."""
    if len(data) < 20:
        raise ValueError(f"STUN message of {len(data)} bytes")
    type_, length = struct.unpack_from("!HH", data, 0)
    if type_ & 0xC000:
        raise ValueError("top bits set")
    if length != len(data) - 20 or length % 4:
        raise ValueError(f"length field {length}, message body {len(data) - 20}")
    classic = data[4:8] != MAGIC_B
    p = StunParsed(type_, data[4:20] if classic else data[8:20], classic)
    off = 20
    while off < len(data):
        if off + 4 > len(data):
            raise ValueError("attribute header truncated")
        at, al = struct.unpack_from("!HH", data, off)
        end = off + 4 + al
        if end > len(data):
            raise ValueError(f"attribute {at:#06x} runs past the end")
        value = data[off + 4 : end]
        if at == ATTR_FINGERPRINT:
            if end != len(data):
                raise ValueError("FINGERPRINT not last")
            crc = (zlib.crc32(data[:off]) & 0xFFFFFFFF) ^ FINGERPRINT_XOR
            p.fingerprint_ok = al == 4 and struct.unpack("!I", value)[0] == crc
        p.attrs.append((at, value))
        off = end + ((-al) % 4)
    if off != len(data):
        raise ValueError("padding runs past the end")
    return p


def attr(p: StunParsed, type_: int) -> bytes | None:
    for at, v in p.attrs:
        if at == type_:
            return v
    return None


def decode_xor_address(value: bytes, txid12: bytes) -> tuple[bytes, int]:
    if len(value) not in (8, 20):
        raise ValueError(f"XOR-MAPPED-ADDRESS value of {len(value)} bytes")
    family = value[1]
    port = struct.unpack_from("!H", value, 2)[0] ^ (MAGIC >> 16)
    key = MAGIC_B + txid12
    if family == 1 and len(value) == 8:
        return bytes(a ^ b for a, b in zip(value[4:8], key[:4])), port
    if family == 2 and len(value) == 20:
        return bytes(a ^ b for a, b in zip(value[4:20], key)), port
    raise ValueError(f"XOR-MAPPED-ADDRESS family {family} with {len(value)} bytes")


def decode_address(value: bytes) -> tuple[bytes, int]:
    if len(value) == 8 and value[1] == 1:
        return value[4:8], struct.unpack_from("!H", value, 2)[0]
    if len(value) == 20 and value[1] == 2:
        return value[4:20], struct.unpack_from("!H", value, 2)[0]
    raise ValueError(f"MAPPED-ADDRESS of {len(value)} bytes, family {value[1] if len(value) > 1 else '?'}")


# --- parsing a frame into layers ---------------------------------------------


@dataclass
class Frame:
    raw: bytes
    dst: bytes = b""
    src: bytes = b""
    vlan: int | None = None
    ethertype: int = 0
    l3: bytes = b""  # from the L3 header to the end of the frame
    # IP view
    v6: bool = False
    ip_src: bytes = b""
    ip_dst: bytes = b""
    proto: int = -1
    ttl: int = -1
    ihl: int = 0
    ip_payload: bytes = b""  # trimmed to the IP length


def parse_frame(raw: bytes) -> Frame:
    """Parses what the checks need; raises ValueError on anything malformed."""
    f = Frame(raw)
    if len(raw) < 14:
        raise ValueError("frame shorter than Ethernet")
    f.dst, f.src = raw[0:6], raw[6:12]
    et = struct.unpack_from("!H", raw, 12)[0]
    off = 14
    if et == ETH_VLAN:
        if len(raw) < 18:
            raise ValueError("VLAN tag truncated")
        f.vlan = struct.unpack_from("!H", raw, 14)[0] & 0x0FFF
        et = struct.unpack_from("!H", raw, 16)[0]
        off = 18
    f.ethertype = et
    f.l3 = raw[off:]
    if et == ETH_IPV4:
        h = f.l3
        if len(h) < 20 or h[0] >> 4 != 4:
            raise ValueError("bad IPv4 header")
        f.ihl = (h[0] & 0xF) * 4
        tl = struct.unpack_from("!H", h, 2)[0]
        if f.ihl < 20 or tl < f.ihl or tl > len(h):
            raise ValueError(f"IPv4 IHL {f.ihl} total length {tl} frame {len(h)}")
        if inet_sum(h[: f.ihl]) != 0xFFFF:
            raise ValueError("IPv4 header checksum invalid")
        f.ttl, f.proto = h[8], h[9]
        f.ip_src, f.ip_dst = h[12:16], h[16:20]
        f.ip_payload = h[f.ihl : tl]
    elif et == ETH_IPV6:
        h = f.l3
        if len(h) < 40 or h[0] >> 4 != 6:
            raise ValueError("bad IPv6 header")
        pl = struct.unpack_from("!H", h, 4)[0]
        if 40 + pl > len(h):
            raise ValueError("IPv6 payload length past the frame")
        f.v6 = True
        f.proto, f.ttl = h[6], h[7]
        f.ip_src, f.ip_dst = h[8:24], h[24:40]
        f.ip_payload = h[40 : 40 + pl]
    return f


def l4_checksum_ok(f: Frame) -> bool:
    """UDP/ICMPv6 checksum over the pseudo-header (v6, or v4 UDP) or ICMPv4 plain."""
    if f.proto == PROTO_ICMP and not f.v6:
        return inet_sum(f.ip_payload) == 0xFFFF
    ph = (pseudo_v6 if f.v6 else pseudo_v4)(f.ip_src, f.ip_dst, f.proto, len(f.ip_payload))
    return inet_sum(ph + f.ip_payload) == 0xFFFF
