#!/usr/bin/env python3
"""RFC 5780 NAT behaviour discovery end to end, with the real binary and real clients.

    rfc5780_test.py --stunbox EXE --source-root DIR loopback | netns-socket | dpdk-lab

loopback      socket mode, the pair on 127.0.0.2:P / 127.0.0.3:P+1 (no root): tests/e2e/rfc5780_client.py
              reports no NAT, endpoint-independent mapping and filtering with every reply checked; Debian's
              `stun` NAT test says "Primary: Open" with no error lines; the plain listen address still
              answers a change request with 420 and no OTHER-ADDRESS; the change requests are counted.
netns-socket  socket mode in two network namespaces (the server holding 198.18.0.2/.3 and
              2001:2::2/::3): the same client over IPv4 and IPv6, and Debian's `stun`.
dpdk-lab      dpdk mode in the netns lab (scripts/netns-lab.sh up 1, config/examples/lab-rfc5780.yaml,
              stunbox owning all four addresses): the same checks against the DPDK path.
The namespace modes need root and exit 77 (skipped) otherwise; they always clean up.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import stunbox_harness as h  # noqa: E402

SKIP = 77
check = h.Checks("rfc5780_test")


def run_client(root: str, servers: list[str], prefix: tuple[str, ...] = ()) -> None:
    script = os.path.join(root, "tests", "e2e", "rfc5780_client.py")
    cmd = list(prefix) + [sys.executable, script, "--expect-open"]
    for s in servers:
        cmd += ["--server", s]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    verdicts = [l for l in r.stdout.splitlines() if l.startswith("rfc5780 ")]
    failures = [l for l in r.stdout.splitlines() if l.startswith("FAIL")]
    check(r.returncode == 0, "rfc5780_client %s: %s" % (" ".join(servers), "; ".join(verdicts) or "no verdict")
          + ("" if r.returncode == 0 else "\n" + "\n".join(failures) + r.stderr))


def counters_show_changes(srv: h.Daemon) -> dict[str, int]:
    c = h.stop_and_check(srv, check)
    for name in ("stun_change_ip", "stun_change_port", "stun_change_ip_port", "stun_response_port"):
        check(c.get(name, 0) > 0, "final counters: %s counted (%s)" % (name, c.get(name)))
    return c


def response_port_denied(port: int, denied: socket.socket) -> None:
    """RESPONSE-PORT naming a port of limits.deny_source_ports: nothing is sent there (nor to the sender)."""
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    a.settimeout(0.5)
    denied.settimeout(0.5)
    req = h.binding_request(attrs=h.stun_attr(0x0027, struct.pack("!HH", denied.getsockname()[1], 0)))
    got = []
    for _ in range(3):
        a.sendto(req, ("127.0.0.2", port))
        for s in (denied, a):
            try:
                got.append(s.recv(2048))
            except socket.timeout:
                pass
    a.close()
    check(not got, "RESPONSE-PORT to a denied port: no reply anywhere (%d datagrams)" % len(got))


def test_loopback(args) -> int:
    port = h.free_port()
    alt = port + 1
    pair = '[{primary: "127.0.0.2:%d", alternate: "127.0.0.3:%d"}]' % (port, alt)
    plain = h.free_port()
    # A port the test holds, in the deny list: RESPONSE-PORT must never send there.
    denied = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    denied.bind(("127.0.0.1", 0))
    deny = "[0, 7, 19, 53, 123, %d]" % denied.getsockname()[1]
    srv = h.Stunbox(args.stunbox, "mode: socket\n", h.socket_sets(["127.0.0.1:%d" % plain]) +
                    ["stun.rfc5780=" + pair, "limits.deny_source_ports=" + deny])
    try:
        if not check(srv.wait_ready(), "socket mode with an RFC 5780 pair starts"):
            print(srv.text())
            return 1
        run_client(args.source_root, ["127.0.0.2:%d" % port])
        h.debian_stun_client(check, "127.0.0.2", port, "127.0.0.1", alternate=("127.0.0.3", alt))
        # Away from the pair nothing changed: a change request gets 420, never OTHER-ADDRESS.
        attrs = h.reply_attrs(plain, attrs=h.stun_attr(0x0003, b"\0\0\0\4"))
        check(attrs is not None and 0x0009 in attrs and 0x802C not in attrs,
              "the plain listen address answers CHANGE-REQUEST 4 with 420 and no OTHER-ADDRESS")
        response_port_denied(port, denied)
    finally:
        c = counters_show_changes(srv)
        denied.close()
    check(c.get("drop:source_port_denied", 0) >= 1,
          "RESPONSE-PORT to a denied port counted as source_port_denied (%s)" % c.get("drop:source_port_denied"))
    return 0


def test_netns_socket(args) -> int:
    ns_cl, ns_sv = "sbx5780-%d-cl" % os.getpid(), "sbx5780-%d-sv" % os.getpid()
    if_cl, if_sv = "s5780c%d" % (os.getpid() % 10000), "s5780s%d" % (os.getpid() % 10000)
    why = h.veth_namespaces(ns_cl, if_cl, "198.18.0.1", ns_sv, if_sv)
    try:
        if why is not None:
            print("rfc5780_test: SKIP: " + why)
            return SKIP
        h.ip("netns", "exec", ns_sv, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=0" % if_sv)
        for addr in ("198.18.0.2/24", "198.18.0.3/24"):
            h.ip("-n", ns_sv, "addr", "add", addr, "dev", if_sv)
        for addr in ("2001:2::2/64", "2001:2::3/64"):
            h.ip("-n", ns_sv, "addr", "add", addr, "dev", if_sv, "nodad")
        h.ip("-n", ns_cl, "addr", "add", "2001:2::1/64", "dev", if_cl, "nodad")
        h.ip("-n", ns_sv, "link", "set", "lo", "up")
        pairs = ('[{primary: "198.18.0.2:3478", alternate: "198.18.0.3:3479"},'
                 ' {primary: "[2001:2::2]:3478", alternate: "[2001:2::3]:3479"}]')
        srv = h.Stunbox(args.stunbox, "mode: socket\n", h.socket_sets(["0.0.0.0:3478", "[::]:3478"]) +
                        ["stun.rfc5780=" + pairs], prefix=("ip", "netns", "exec", ns_sv))
        try:
            if not check(srv.wait_ready(), "socket mode in the server namespace starts (listen wildcards + the pairs)"):
                print(srv.text())
                return 1
            prefix = ("ip", "netns", "exec", ns_cl)
            run_client(args.source_root, ["198.18.0.2:3478", "[2001:2::2]:3478"], prefix)
            h.debian_stun_client(check, "198.18.0.2", 3478, "198.18.0.1", prefix=prefix, alternate=("198.18.0.3", 3479))
        finally:
            counters_show_changes(srv)
    finally:
        h.netns_del(ns_cl, ns_sv)
    return 0


def test_dpdk_lab(args) -> int:
    lock = h.netns_lab_lock()  # noqa: F841 (held until return)
    lab = os.path.join(args.source_root, "scripts", "netns-lab.sh")
    config = os.path.join(args.source_root, "config", "examples", "lab-rfc5780.yaml")
    up = subprocess.run([lab, "up", "1"], capture_output=True, text=True, timeout=60)
    try:
        if up.returncode != 0:
            print("rfc5780_test: SKIP: netns-lab.sh up 1 failed: " + up.stderr.strip())
            return SKIP
        srv = h.Daemon(["ip", "netns", "exec", "sbx-dp", args.stunbox, "-c", config])
        try:
            if not check(srv.wait_ready(30), "dpdk mode (af_packet) owning 198.18.0.2/.3 and 2001:2::2/::3 starts"):
                print(srv.text())
                return 1
            prefix = ("ip", "netns", "exec", "sbx-cl")
            # Resolve all four addresses first (the kernel drops what it queued while ARP/NDP resolve).
            for a in ("198.18.0.2", "198.18.0.3", "2001:2::2", "2001:2::3"):
                subprocess.run(list(prefix) + ["ping", "-c", "1", "-W", "2", a], capture_output=True, timeout=10)
            run_client(args.source_root, ["198.18.0.2:3478", "[2001:2::2]:3478"], prefix)
            h.debian_stun_client(check, "198.18.0.2", 3478, "198.18.0.1", prefix=prefix, alternate=("198.18.0.3", 3479))
        finally:
            counters_show_changes(srv)
    finally:
        subprocess.run([lab, "down"], capture_output=True, timeout=60)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("mode", choices=["loopback", "netns-socket", "dpdk-lab"])
    args = ap.parse_args()
    if args.mode != "loopback" and os.geteuid() != 0:
        print("rfc5780_test: SKIP: %s needs root (network namespaces)" % args.mode)
        return SKIP
    rc = {"loopback": test_loopback, "netns-socket": test_netns_socket, "dpdk-lab": test_dpdk_lab}[args.mode](args)
    if rc == SKIP:
        return SKIP
    return check.verdict() or rc


if __name__ == "__main__":
    sys.exit(main())
