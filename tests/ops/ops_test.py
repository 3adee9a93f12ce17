#!/usr/bin/env python3
"""Operations tests of issue 4: clear vs /metrics, reload under load, shellcheck.

    ops_test.py clear  --stunbox EXE --cli CLI
    ops_test.py reload --stunbox EXE --cli CLI --load LOAD
    ops_test.py reload-dpdk --stunbox EXE --cli CLI --load LOAD
    ops_test.py shellcheck --source-root DIR

clear       the real daemon in socket mode with a control socket and /metrics:
            after N requests `clear stun stats` and `clear port stats all`
            zero what the console shows, while /metrics keeps exactly N;
            after M more the console shows M and /metrics N+M.
reload      2 workers under stunbox-load (closed loop, 6 s) while the test
            alternates `reload` over the control socket and SIGHUP about 20
            times, flipping stun.fingerprint and stun.software: no request
            lost, no answer invalid, every reload applied (reply / log line,
            `show config`) and the last one visible in the answers.
reload-dpdk the same on the DPDK path: net_af_packet on a veth between two
            namespaces of our own (198.18.7.0/24), stunbox-load open loop at
            5000/s from the client namespace (root only; 77 = skipped).
shellcheck  `shellcheck -S warning` over scripts/*.sh and .ci/run finds nothing
            (77 = skipped when shellcheck is not installed).
Every wait is bounded; the server is stopped (killed if it hangs) in all cases.
Exit 0 on pass, 1 with a line per failure, 77 when skipped.
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SKIP = 77
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
CLI_TIMEOUT = 10.0
POLL_TIMEOUT = 5.0
MAGIC = 0x2112A442
ATTR_SOFTWARE = 0x8022
ATTR_FINGERPRINT = 0x8028

failures = []


def check(cond, what):
    print("%s %s" % ("PASS" if cond else "FAIL", what), flush=True)
    if not cond:
        failures.append(what)
    return cond


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """The real stunbox in socket mode; stdout and stderr collected line by line."""

    def __init__(self, exe, tmp, config_text, sets, prefix=()):
        self.config = os.path.join(tmp, "stunbox.yaml")
        with open(self.config, "w") as f:
            f.write(config_text)
        args = list(prefix) + [exe, "-c", self.config]
        for s in sets:
            args += ["--set", s]
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.lines)

    def wait_line(self, pattern, timeout, start=0):
        """Index of the first line at or after `start` matching `pattern`, or None (timeout or exit)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    if self.lines[i] is None:
                        return None
                    if rx.search(self.lines[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def text(self):
        with self.cond:
            return "\n".join(l for l in self.lines if l is not None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
            return None


def start_server(args, tmp, config_text, workers, metrics_port=None):
    port = free_port(socket.SOCK_DGRAM)
    sock = os.path.join(tmp, "run", "ctl.sock")
    sets = ["socket.listen=[\"127.0.0.1:%d\"]" % port, "socket.workers=%d" % workers, "control.socket=\"%s\"" % sock]
    if metrics_port is not None:
        sets.append("stats.metrics_listen=\"127.0.0.1:%d\"" % metrics_port)
    srv = Server(args.stunbox, tmp, config_text, sets)
    ok = srv.wait_line(r"^stunbox: ready", READY_TIMEOUT) is not None
    return srv, port, sock, ok


def cli(args, sock, *words):
    """Runs stunbox-cli once; (exit code, stdout, stderr)."""
    p = subprocess.run([args.cli, "-s", sock] + list(words), capture_output=True, text=True, timeout=CLI_TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def labelled(text, label):
    """The integer after `label` in console output, or None."""
    m = re.search(re.escape(label) + r"\s*(\d+)", text)
    return int(m.group(1)) if m else None


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metric(url, name, **want):
    """sum(name{want}) in a fresh scrape of url (text exposition format 0.0.4)."""
    with urllib.request.urlopen(url, timeout=5.0) as r:
        body = r.read().decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        if m and m.group(1) == name:
            labels = dict(LABEL.findall(m.group(3) or ""))
            if all(labels.get(k) == v for k, v in want.items()):
                total += float(m.group(4))
    return total


def poll(fn, expected, timeout=POLL_TIMEOUT):
    """Calls fn() until it returns expected (counters are published once per batch) or timeout; the last value."""
    deadline = time.monotonic() + timeout
    got = fn()
    while got != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        got = fn()
    return got


def binding_request(fingerprint=False):
    tid = os.urandom(12)
    if not fingerprint:
        return struct.pack("!HHI", 0x0001, 0, MAGIC) + tid
    import zlib
    head = struct.pack("!HHI", 0x0001, 8, MAGIC) + tid
    crc = (zlib.crc32(head) ^ 0x5354554E) & 0xFFFFFFFF
    return head + struct.pack("!HHI", ATTR_FINGERPRINT, 4, crc)


def send_requests(port, n, timeout=2.0):
    """n Binding requests, one at a time (one send each: exact counts); how many got a success response."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    answered = 0
    try:
        for _ in range(n):
            req = binding_request()
            s.sendto(req, ("127.0.0.1", port))
            try:
                data, _ = s.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) >= 20 and struct.unpack("!H", data[:2])[0] == 0x0101 and data[8:20] == req[8:20]:
                answered += 1
    finally:
        s.close()
    return answered


def reply_attrs(port, retries=3):
    """{type: value} of the attributes in the answer to one Binding request without FINGERPRINT, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    try:
        for _ in range(retries):
            req = binding_request()
            s.sendto(req, ("127.0.0.1", port))
            try:
                data, _ = s.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) < 20 or data[8:20] != req[8:20]:
                continue
            out, off = {}, 20
            while off + 4 <= len(data):
                t, n = struct.unpack("!HH", data[off:off + 4])
                out[t] = data[off + 4:off + 4 + n]
                off += 4 + ((n + 3) & ~3)
            return out
    finally:
        s.close()
    return None


# ---------------------------------------------------------------- tests

def test_clear(args, tmp):
    mport = free_port(socket.SOCK_STREAM)
    srv, port, sock, ok = start_server(args, tmp, "mode: socket\n", workers=2, metrics_port=mport)
    url = "http://127.0.0.1:%d/metrics" % mport
    try:
        if not check(ok, "socket mode with control socket and /metrics starts"):
            print(srv.text())
            return

        def shown_success():
            return labelled(cli(args, sock, "show", "stun", "stats")[1], "success responses:")

        def shown_requests():
            return labelled(cli(args, sock, "show", "stun", "stats")[1], "requests (RFC 5389/8489):")

        def shown_rx():
            return labelled(cli(args, sock, "show", "port", "stats", "all")[1], "RX-packets:")

        def m_success():
            return metric(url, "stunbox_stun_responses_total", result="success")

        def m_requests():
            return metric(url, "stunbox_stun_requests_total")

        n, m = 41, 13
        check(send_requests(port, n) == n, "%d requests answered" % n)
        # Everything published before the baseline is taken, or clear would leave a remainder.
        check(poll(shown_success, n) == n, "console shows %d success responses before clear" % n)
        check(poll(m_success, n) == n, "/metrics shows %d success responses before clear" % n)

        rc, out, err = cli(args, sock, "clear", "stun", "stats")
        check(rc == 0, "clear stun stats exits 0 (%s)" % (out + err).strip())
        rc, out, err = cli(args, sock, "clear", "port", "stats", "all")
        check(rc == 0, "clear port stats all exits 0 (%s)" % (out + err).strip())

        check(shown_success() == 0, "after clear: show stun stats shows 0 success responses")
        check(shown_requests() == 0, "after clear: show stun stats shows 0 requests")
        check(shown_rx() == 0, "after clear: show port stats all shows RX-packets 0")
        check(m_success() == n, "after clear: /metrics still shows exactly %d success responses" % n)
        check(m_requests() == n, "after clear: /metrics still shows exactly %d requests" % n)
        check(metric(url, "stunbox_rx_packets_total") == n, "after clear: /metrics rx_packets still %d" % n)

        check(send_requests(port, m) == m, "%d more requests answered" % m)
        got = poll(shown_success, m)
        check(got == m, "console shows %d success responses after clear (got %s)" % (m, got))
        check(shown_requests() == m, "console shows %d requests after clear" % m)
        check(poll(shown_rx, m) == m, "show port stats all: RX-packets %d after clear" % m)
        got = poll(m_success, n + m)
        check(got == n + m, "/metrics success responses is exactly N+M = %d (got %s)" % (n + m, got))
        check(m_requests() == n + m, "/metrics requests is exactly %d" % (n + m))
        check(metric(url, "stunbox_rx_packets_total") == n + m, "/metrics rx_packets is exactly %d" % (n + m))
    finally:
        check(srv.stop() == 0, "SIGTERM: exit 0")


def config_text(i):
    """The i-th config of the reload cycle: fingerprint and software flip every time."""
    fp = "always" if i % 2 == 0 else "mirror"
    return fp, "ops-reload-%d" % i, "mode: socket\nstun:\n  fingerprint: %s\n  software: \"ops-reload-%d\"\n" % (fp, i)


def test_reload(args, tmp):
    _, _, first = config_text(0)
    srv, port, sock, ok = start_server(args, tmp, first, workers=2)
    load = None
    try:
        if not check(ok, "socket mode with 2 workers starts"):
            print(srv.text())
            return
        duration = 6.0
        load = subprocess.Popen([args.load, "--server", "127.0.0.1:%d" % port, "--sockets", "16", "--window", "8",
                                 "--duration", str(duration), "--timeout", "1000", "--max-loss", "0", "--quiet"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)  # let the load ramp up before the first reload
        rounds, applied, last = 20, 0, None
        t0 = time.monotonic()
        for i in range(1, rounds + 1):
            fp, software, text = config_text(i)
            # Atomic replace: the daemon never reads a half-written file.
            tmpname = srv.config + ".new"
            with open(tmpname, "w") as f:
                f.write(text)
            os.replace(tmpname, srv.config)
            if i % 2 == 0:
                rc, out, err = cli(args, sock, "reload")
                ok = rc == 0 and "stun options and stats.period applied" in out and "reload failed" not in out
            else:
                mark = srv.mark()
                srv.proc.send_signal(signal.SIGHUP)
                ok = srv.wait_line(r"^stunbox: reloaded .*stun options and stats\.period applied", 5.0, mark) is not None
            if ok:
                rc, out, _ = cli(args, sock, "show", "config")
                ok = ("fingerprint: %s" % fp) in out and software in out
            applied += ok
            last = (fp, software)
            time.sleep(0.1)
        spent = time.monotonic() - t0
        check(applied == rounds, "%d of %d reloads (console and SIGHUP alternating) applied" % (applied, rounds))
        check(spent < duration, "the reloads all happened during the load (%.2f s of %.1f s)" % (spent, duration))
        check(load.poll() is None, "the load was still running after the last reload")
        try:
            out, err = load.communicate(timeout=duration + 15)
        except subprocess.TimeoutExpired:
            load.kill()
            out, err = load.communicate()
        lines = out.strip().splitlines()
        try:
            res = json.loads(lines[-1])
        except (IndexError, ValueError):
            res = {}
            print(out, err)
        check(res.get("sent", 0) > 1000, "load sent requests (%s)" % res.get("sent"))
        check(res.get("lost") == 0, "no request lost across the reloads (%s)" % res.get("lost"))
        check(res.get("invalid") == 0, "no invalid answer (%s %s)" % (res.get("invalid"), res.get("invalid_reasons")))
        check(res.get("valid") == res.get("sent"), "every request got a valid answer (%s/%s)" %
              (res.get("valid"), res.get("sent")))
        check(load.returncode == 0, "stunbox-load exits 0 (%s)" % load.returncode)

        # The data path runs the last config: always -> FINGERPRINT even though the request had none.
        attrs = reply_attrs(port)
        check(attrs is not None, "answered after the reloads")
        if attrs is not None:
            fp, software = last
            check((ATTR_FINGERPRINT in attrs) == (fp == "always"),
                  "FINGERPRINT in the answer follows the last reload (fingerprint: %s)" % fp)
            check(attrs.get(ATTR_SOFTWARE, b"").rstrip(b"\0").decode(errors="replace") == software,
                  "SOFTWARE in the answer is the last reload's %r (%r)" % (software, attrs.get(ATTR_SOFTWARE)))
        # And one more flip, checked in the answers, so both directions are proven.
        fp, software, text = config_text(rounds + 1)
        with open(srv.config, "w") as f:
            f.write(text)
        rc, out, _ = cli(args, sock, "reload")
        attrs = reply_attrs(port)
        check(attrs is not None and (ATTR_FINGERPRINT in attrs) == (fp == "always")
              and attrs.get(ATTR_SOFTWARE, b"").rstrip(b"\0").decode(errors="replace") == software,
              "a further reload to fingerprint %s / %s shows in the answers" % (fp, software))
    finally:
        if load is not None and load.poll() is None:
            load.kill()
            load.wait(STOP_TIMEOUT)
        check(srv.stop() == 0, "SIGTERM: exit 0")


DPDK_CONFIG = """mode: dpdk
stun:
  ports: [3478]
  fingerprint: {fp}
  software: "{software}"
  classic: true
dpdk:
  eal: ["--no-pci", "--no-huge", "-m", "256", "--no-shconf", "--lcores", "0@0,1@0,2@1"]
  ports:
    - device: "net_af_packet0,iface={iface},qpairs=2"
      queues: 2
      rx_desc: 1024
      tx_desc: 1024
      addresses: ["{addr}/24"]
      mtu: 1500
  lcores: auto
  burst: 32
  idle: adaptive
  link_wait_ms: 3000
stats:
  period: 0
"""
# Named after our PID: parallel runs (and the lab suite's sbx-cl/sbx-dp) do not collide. Interface names <= 15 chars.
NS_CLIENT, NS_APPLIANCE = "sbx-ops-%d-cl" % os.getpid(), "sbx-ops-%d-dp" % os.getpid()
IF_CLIENT, IF_APPLIANCE = "sbxo%dc" % os.getpid(), "sbxo%dd" % os.getpid()
ADDR_CLIENT, ADDR_APPLIANCE = "198.18.7.1", "198.18.7.2"


def ip(*words):
    return subprocess.run(["ip"] + list(words), capture_output=True, text=True, timeout=30)


def netns_down():
    for ns in (NS_CLIENT, NS_APPLIANCE):
        ip("netns", "del", ns)


def netns_up():
    """Two namespaces of our own joined by a veth; None on success, else why not."""
    netns_down()
    for cmd in (["netns", "add", NS_CLIENT], ["netns", "add", NS_APPLIANCE],
                ["-n", NS_CLIENT, "link", "add", IF_CLIENT, "type", "veth", "peer", "name", IF_APPLIANCE,
                 "netns", NS_APPLIANCE],
                ["-n", NS_CLIENT, "addr", "add", ADDR_CLIENT + "/24", "dev", IF_CLIENT],
                ["-n", NS_CLIENT, "link", "set", IF_CLIENT, "up"], ["-n", NS_CLIENT, "link", "set", "lo", "up"],
                ["-n", NS_APPLIANCE, "link", "set", IF_APPLIANCE, "up"]):
        r = ip(*cmd)
        if r.returncode != 0:
            return "ip %s: %s" % (" ".join(cmd), r.stderr.strip())
    ip("netns", "exec", NS_APPLIANCE, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % IF_APPLIANCE)
    # As scripts/netns-lab.sh: with TX checksum offload the client's datagrams reach af_packet with
    # partial checksums (dropped as bad), and GRO would merge frames before the PMD sees them.
    for ns, ifname in ((NS_CLIENT, IF_CLIENT), (NS_APPLIANCE, IF_APPLIANCE)):
        for feature in ("tx", "rx", "gro", "gso", "tso"):
            ip("netns", "exec", ns, "ethtool", "-K", ifname, feature, "off")
        r = ip("netns", "exec", ns, "ethtool", "-k", ifname)
        if "tx-checksumming: off" not in r.stdout:
            return "cannot turn off TX checksum offload on %s (ethtool missing?)" % ifname
    return None


def test_reload_dpdk(args, tmp):
    """reload under load on the DPDK path: net_af_packet on a veth in namespaces we create (root only)."""
    if os.geteuid() != 0:
        print("SKIP needs root (network namespaces, AF_PACKET)")
        return SKIP
    why = netns_up()
    if why is not None:
        netns_down()
        print("SKIP " + why)
        return SKIP
    load = None
    srv = None
    sock = os.path.join(tmp, "run", "ctl.sock")

    def cfg(i):
        fp, software, _ = config_text(i)
        return fp, software, DPDK_CONFIG.format(fp=fp, software=software, iface=IF_APPLIANCE, addr=ADDR_APPLIANCE)

    try:
        srv = Server(args.stunbox, tmp, cfg(0)[2], ["control.socket=\"%s\"" % sock],
                     prefix=["ip", "netns", "exec", NS_APPLIANCE])
        if not check(srv.wait_line(r"^stunbox: ready", 30.0) is not None, "dpdk mode on net_af_packet starts"):
            print(srv.text())
            return None
        in_client = ["ip", "netns", "exec", NS_CLIENT]
        # ARP first: the kernel keeps only a few datagrams while it resolves.
        r = subprocess.run(in_client + ["ping", "-c", "1", "-W", "2", ADDR_APPLIANCE], capture_output=True,
                           text=True, timeout=10)
        check(r.returncode == 0, "dpdk: the appliance answers ping (ARP resolved)")
        duration = 6.0
        # Open loop at a rate a 2-vCPU box sustains on af_packet: loss then means the reloads lost packets.
        load = subprocess.Popen(in_client + [args.load, "--server", "%s:3478" % ADDR_APPLIANCE, "--sockets", "32",
                                             "--rate", "5000", "--duration", str(duration), "--timeout", "1000",
                                             "--max-loss", "0", "--quiet"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)
        rounds, applied, last = 20, 0, None
        t0 = time.monotonic()
        for i in range(1, rounds + 1):
            fp, software, text = cfg(i)
            with open(srv.config + ".new", "w") as f:
                f.write(text)
            os.replace(srv.config + ".new", srv.config)
            if i % 2 == 0:
                rc, out, _ = cli(args, sock, "reload")
                ok = rc == 0 and "stun options and stats.period applied" in out and "NOT applied" not in out
            else:
                mark = srv.mark()
                srv.proc.send_signal(signal.SIGHUP)  # `ip netns exec` execs stunbox: this is its PID
                j = srv.wait_line(r"^stunbox: reloaded .*stun options and stats\.period applied", 5.0, mark)
                ok = j is not None and "NOT applied" not in srv.lines[j]
            if ok:
                rc, out, _ = cli(args, sock, "show", "config")
                ok = ("fingerprint: %s" % fp) in out and software in out
            applied += ok
            last = (fp, software)
            time.sleep(0.1)
        spent = time.monotonic() - t0
        check(applied == rounds, "dpdk: %d of %d reloads (console and SIGHUP alternating) applied" % (applied, rounds))
        check(spent < duration, "dpdk: the reloads all happened during the load (%.2f s of %.1f s)" % (spent, duration))
        try:
            out, err = load.communicate(timeout=duration + 15)
        except subprocess.TimeoutExpired:
            load.kill()
            out, err = load.communicate()
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (IndexError, ValueError):
            res = {}
            print(out, err)
        check(res.get("sent", 0) > 10000, "dpdk: load sent requests (%s)" % res.get("sent"))
        check(res.get("lost") == 0, "dpdk: no request lost across the reloads (%s)" % res.get("lost"))
        check(res.get("invalid") == 0, "dpdk: no invalid answer (%s %s)" % (res.get("invalid"),
                                                                          res.get("invalid_reasons")))
        check(load.returncode == 0, "dpdk: stunbox-load exits 0 (%s)" % load.returncode)
        # The last reload reached the lcores: one probe from the client namespace.
        fp, software = last
        probe = ("import socket, os, struct\n"
                 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                 "s.settimeout(1)\n"
                 "for _ in range(3):\n"
                 "    t = os.urandom(12)\n"
                 "    s.sendto(struct.pack('!HHI', 1, 0, 0x2112A442) + t, ('%s', 3478))\n"
                 "    try:\n"
                 "        d = s.recv(2048)\n"
                 "    except OSError:\n"
                 "        continue\n"
                 "    if d[8:20] == t:\n"
                 "        print(d.hex())\n"
                 "        break\n" % ADDR_APPLIANCE)
        r = subprocess.run(in_client + [sys.executable, "-c", probe], capture_output=True, text=True, timeout=15)
        data = bytes.fromhex(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip() else b""
        attrs, off = {}, 20
        while off + 4 <= len(data):
            t, n = struct.unpack("!HH", data[off:off + 4])
            attrs[t] = data[off + 4:off + 4 + n]
            off += 4 + ((n + 3) & ~3)
        check(bool(data) and (ATTR_FINGERPRINT in attrs) == (fp == "always")
              and attrs.get(ATTR_SOFTWARE, b"").decode(errors="replace") == software,
              "dpdk: the answer carries the last reload's options (fingerprint %s, software %s)" % (fp, software))
    finally:
        if load is not None and load.poll() is None:
            load.kill()
            load.wait(STOP_TIMEOUT)
        if srv is not None:
            check(srv.stop() == 0, "dpdk: SIGTERM: exit 0")
        netns_down()
    return None


def test_shellcheck(args):
    tool = shutil.which("shellcheck")
    if tool is None:
        print("SKIP shellcheck not installed (Debian package shellcheck)")
        return SKIP
    root = os.path.abspath(args.source_root)
    files = sorted(glob.glob(os.path.join(root, "scripts", "*.sh"))) + [os.path.join(root, ".ci", "run")]
    files = [f for f in files if os.path.isfile(f)]
    check(len(files) >= 5, "found the scripts to check (%d)" % len(files))
    r = subprocess.run([tool, "-S", "warning", "-x", "-P", "SCRIPTDIR"] + files, capture_output=True, text=True,
                       timeout=120, cwd=root)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
    check(r.returncode == 0, "shellcheck -S warning finds nothing in %s" % ", ".join(os.path.relpath(f, root)
                                                                                     for f in files))
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("test", choices=["clear", "reload", "reload-dpdk", "shellcheck"])
    p.add_argument("--stunbox")
    p.add_argument("--cli")
    p.add_argument("--load")
    p.add_argument("--source-root")
    args = p.parse_args()
    if args.test == "shellcheck":
        rc = test_shellcheck(args)
        if rc is not None:
            return rc
    else:
        # meson's timeout sends SIGTERM: unwind through the finally blocks (servers stopped, namespaces removed).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        with tempfile.TemporaryDirectory(prefix="stunbox-ops-") as tmp:
            rc = {"clear": test_clear, "reload": test_reload, "reload-dpdk": test_reload_dpdk}[args.test](args, tmp)
        if rc is not None:
            return rc
    if failures:
        print("%d failure(s):\n  %s" % (len(failures), "\n  ".join(failures)))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
