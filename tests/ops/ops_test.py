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
shellcheck  `shellcheck -S warning` over scripts/*.sh, .ci/run and tests/*/*.sh finds nothing
            (77 = skipped when shellcheck is not installed).
Every wait is bounded; the server is stopped (killed if it hangs) in all cases.
Exit 0 on pass, 1 with a line per failure, 77 when skipped.
"""

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402
from stunbox_harness import ATTR_FINGERPRINT, ATTR_SOFTWARE, SKIP, STOP_TIMEOUT, poll, send_requests  # noqa: E402

check = h.Checks("ops_test")


def start_server(args, tmp, config_text, workers, metrics_port=None):
    port = h.free_port()
    sock = os.path.join(tmp, "run", "ctl.sock")
    metrics = "127.0.0.1:%d" % metrics_port if metrics_port is not None else None
    srv = h.Stunbox(args.stunbox, config_text,
                    h.socket_sets(["127.0.0.1:%d" % port], workers, control=sock, metrics=metrics), workdir=tmp)
    return srv, port, sock, srv.wait_ready()


def cli(args, sock, *words):
    """Runs stunbox-cli once; (exit code, stdout, stderr)."""
    return h.cli(args.cli, sock, *words)


# ---------------------------------------------------------------- tests

def test_clear(args, tmp):
    mport = h.free_port(socket.SOCK_STREAM)
    srv, port, sock, ok = start_server(args, tmp, "mode: socket\n", workers=2, metrics_port=mport)
    url = "http://127.0.0.1:%d/metrics" % mport
    try:
        if not check(ok, "socket mode with control socket and /metrics starts"):
            print(srv.text())
            return

        def shown_success():
            return h.shown(cli(args, sock, "show", "stun", "stats")[1], "success responses:")

        def shown_requests():
            return h.shown(cli(args, sock, "show", "stun", "stats")[1], "requests (RFC 5389/8489):")

        def shown_rx():
            return h.shown(cli(args, sock, "show", "port", "stats", "all")[1], "RX-packets:")

        def m_success():
            return h.metric(url, "stunbox_stun_responses_total", result="success")

        def m_requests():
            return h.metric(url, "stunbox_stun_requests_total")

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
        check(h.metric(url, "stunbox_rx_packets_total") == n, "after clear: /metrics rx_packets still %d" % n)

        check(send_requests(port, m) == m, "%d more requests answered" % m)
        got = poll(shown_success, m)
        check(got == m, "console shows %d success responses after clear (got %s)" % (m, got))
        check(shown_requests() == m, "console shows %d requests after clear" % m)
        check(poll(shown_rx, m) == m, "show port stats all: RX-packets %d after clear" % m)
        got = poll(m_success, n + m)
        check(got == n + m, "/metrics success responses is exactly N+M = %d (got %s)" % (n + m, got))
        check(m_requests() == n + m, "/metrics requests is exactly %d" % (n + m))
        check(h.metric(url, "stunbox_rx_packets_total") == n + m, "/metrics rx_packets is exactly %d" % (n + m))
    finally:
        check(srv.stop() == 0, "SIGTERM: exit 0")


def config_text(i):
    """The i-th config of the reload cycle: fingerprint and software flip every time."""
    fp = "always" if i % 2 == 0 else "mirror"
    return fp, "ops-reload-%d" % i, "mode: socket\nstun:\n  fingerprint: %s\n  software: \"ops-reload-%d\"\n" % (fp, i)


def reload_rounds(args, srv, sock, config_of, rounds, reply_refuses, line_refuses=None):
    """`rounds` reloads, each after the i-th config (config_of(i): fingerprint, software, text) is written:
    `reload` over the control socket on even rounds (its reply must not contain `reply_refuses`), SIGHUP on
    odd ones (the log line must not contain `line_refuses`, when given). A reload counts as applied when
    `show config` then has the new options. (applied, (fingerprint, software) of the last round)."""
    applied, last = 0, None
    for i in range(1, rounds + 1):
        fp, software, text = config_of(i)
        # Atomic replace: the daemon never reads a half-written file.
        with open(srv.config + ".new", "w") as f:
            f.write(text)
        os.replace(srv.config + ".new", srv.config)
        if i % 2 == 0:
            rc, out, _ = cli(args, sock, "reload")
            ok = rc == 0 and "stun options and stats.period applied" in out and reply_refuses not in out
        else:
            mark = srv.mark()
            srv.proc.send_signal(signal.SIGHUP)  # under `ip netns exec` too: it execs stunbox, this is its PID
            j = srv.wait_line(r"^stunbox: reloaded .*stun options and stats\.period applied", 5.0, mark)
            ok = j is not None and (line_refuses is None or line_refuses not in srv.lines[j])
        if ok:
            rc, out, _ = cli(args, sock, "show", "config")
            ok = ("fingerprint: %s" % fp) in out and software in out
        applied += ok
        last = (fp, software)
        time.sleep(0.1)
    return applied, last


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
        rounds = 20
        t0 = time.monotonic()
        applied, last = reload_rounds(args, srv, sock, config_text, rounds, "reload failed")
        spent = time.monotonic() - t0
        check(applied == rounds, "%d of %d reloads (console and SIGHUP alternating) applied" % (applied, rounds))
        check(spent < duration, "the reloads all happened during the load (%.2f s of %.1f s)" % (spent, duration))
        check(load.poll() is None, "the load was still running after the last reload")
        res = h.finish_load(load, duration + 15)
        check(res.get("sent", 0) > 1000, "load sent requests (%s)" % res.get("sent"))
        check(res.get("lost") == 0, "no request lost across the reloads (%s)" % res.get("lost"))
        check(res.get("invalid") == 0, "no invalid answer (%s %s)" % (res.get("invalid"), res.get("invalid_reasons")))
        check(res.get("valid") == res.get("sent"), "every request got a valid answer (%s/%s)" %
              (res.get("valid"), res.get("sent")))
        check(load.returncode == 0, "stunbox-load exits 0 (%s)" % load.returncode)

        # The data path runs the last config: always -> FINGERPRINT even though the request had none.
        attrs = h.reply_attrs(port)
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
        attrs = h.reply_attrs(port)
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



def test_reload_dpdk(args, tmp):
    """reload under load on the DPDK path: net_af_packet on a veth in namespaces we create (root only)."""
    if os.geteuid() != 0:
        print("SKIP needs root (network namespaces, AF_PACKET)")
        return SKIP
    why = h.veth_namespaces(NS_CLIENT, IF_CLIENT, ADDR_CLIENT, NS_APPLIANCE, IF_APPLIANCE)
    if why is not None:
        h.netns_del(NS_CLIENT, NS_APPLIANCE)
        print("SKIP " + why)
        return SKIP
    load = None
    srv = None
    sock = os.path.join(tmp, "run", "ctl.sock")

    def cfg(i):
        fp, software, _ = config_text(i)
        return fp, software, DPDK_CONFIG.format(fp=fp, software=software, iface=IF_APPLIANCE, addr=ADDR_APPLIANCE)

    try:
        srv = h.Stunbox(args.stunbox, cfg(0)[2], ["control.socket=\"%s\"" % sock], workdir=tmp,
                        prefix=["ip", "netns", "exec", NS_APPLIANCE])
        if not check(srv.wait_ready(30.0), "dpdk mode on net_af_packet starts"):
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
        rounds = 20
        t0 = time.monotonic()
        applied, last = reload_rounds(args, srv, sock, cfg, rounds, "NOT applied", "NOT applied")
        spent = time.monotonic() - t0
        check(applied == rounds, "dpdk: %d of %d reloads (console and SIGHUP alternating) applied" % (applied, rounds))
        check(spent < duration, "dpdk: the reloads all happened during the load (%.2f s of %.1f s)" % (spent, duration))
        res = h.finish_load(load, duration + 15)
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
        attrs = h.stun_attrs(data)
        check(bool(data) and (ATTR_FINGERPRINT in attrs) == (fp == "always")
              and attrs.get(ATTR_SOFTWARE, b"").decode(errors="replace") == software,
              "dpdk: the answer carries the last reload's options (fingerprint %s, software %s)" % (fp, software))
    finally:
        if load is not None and load.poll() is None:
            load.kill()
            load.wait(STOP_TIMEOUT)
        if srv is not None:
            check(srv.stop() == 0, "dpdk: SIGTERM: exit 0")
        h.netns_del(NS_CLIENT, NS_APPLIANCE)
    return None


def test_shellcheck(args):
    tool = shutil.which("shellcheck")
    if tool is None:
        print("SKIP shellcheck not installed (Debian package shellcheck)")
        return SKIP
    root = os.path.abspath(args.source_root)
    files = (sorted(glob.glob(os.path.join(root, "scripts", "*.sh"))) + [os.path.join(root, ".ci", "run")] +
             sorted(glob.glob(os.path.join(root, "tests", "*", "*.sh"))))
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
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
