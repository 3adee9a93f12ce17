#!/usr/bin/env python3
"""socket.user end to end: the real stunbox drops root after binding (root only; 77 = skipped).

    privdrop_test.py drop     --stunbox EXE --cli CLI
    privdrop_test.py not-root --stunbox EXE

drop      started as root with socket.user=nobody on a privileged port (< 1024)
          and a high port, a control socket whose directory it creates and
          /metrics: every thread runs as nobody (Uid/Gid), no supplementary
          group but nobody's, NoNewPrivs 1, no capabilities; STUN answered on
          every port; stunbox-cli (as root) works over the control socket;
          /metrics answers; a reload with a file nobody cannot read fails with
          one line and serving goes on; a readable reload that changes
          socket.user names it as restart-only; SIGTERM: exit 0, final
          counters, control socket removed. Then a control directory that
          exists and nobody cannot write: a note at start, still exit 0.
not-root  run as nobody (setpriv): socket.user=root -> exit 1 and one line,
          nothing bound; socket.user=nobody (already nobody) -> serves.
Every wait is bounded; servers are stopped (killed if they hang) in all cases.
Exit 0 on pass, 1 with a line per failure, 77 when skipped.
"""

import argparse
import grp
import os
import pwd
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import stun_blackbox as bb  # noqa: E402
import stunbox_harness as h  # noqa: E402
from stunbox_harness import CLI_TIMEOUT, SKIP  # noqa: E402

READY_TIMEOUT = 10.0
RELOAD_TIMEOUT = 5.0

check = h.Checks("privdrop_test")


def nobody():
    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


def free_low_port():
    """A UDP port below 1024 free on 127.0.0.1 (binding it needs root or CAP_NET_BIND_SERVICE)."""
    ports = list(range(600, 1024))
    random.shuffle(ports)
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free UDP port below 1024")


def status_fields(path):
    """/proc/.../status as {key: value text}."""
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def stun_ok(listen):
    """One Binding request to `listen` ("IP:PORT" / "[IP]:PORT"): answered, with our own address reflected."""
    client = bb.Client(bb.Target(listen), {})
    try:
        reply, tid = client.transact(bb.binding(), "binding")
        if reply.type != bb.BINDING_SUCCESS:
            return False
        xma = reply.get(bb.A_XOR_MAPPED)
        # tid is the request's bytes 4..20: cookie and transaction id, the XOR key.
        return xma is not None and bb.decode_address(xma, True, tid) == client.own_address()
    except bb.CheckFailed as e:
        print("  stun %s: %s" % (listen, e))
        return False
    finally:
        client.close()


def reload_line(srv):
    """SIGHUP, then the next "stunbox: reload..." line (or None after RELOAD_TIMEOUT)."""
    mark = srv.mark()
    srv.proc.send_signal(signal.SIGHUP)
    i = srv.wait_line(r"^stunbox: reload", RELOAD_TIMEOUT, mark)
    return srv.lines[i] if i is not None else None


def config_text(listen, user, control, metrics=None):
    text = "mode: socket\n"
    text += "socket:\n  listen: [%s]\n  workers: 2\n  user: %s\n" % (", ".join('"%s"' % l for l in listen), user)
    text += 'control:\n  socket: "%s"\n' % control
    if metrics:
        text += 'stats:\n  metrics_listen: "%s"\n' % metrics
    return text


def start(exe, text, workdir):
    return h.start(exe, text, workdir=workdir, ready_timeout=READY_TIMEOUT)


def stop_and_check(srv):
    return h.stop_and_check(srv, check)


def test_drop(exe, cli):
    uid, gid = nobody()
    group_name = grp.getgrgid(gid).gr_name
    tmp = tempfile.mkdtemp(prefix="stunbox-privdrop-")
    os.chmod(tmp, 0o755)  # nobody may traverse it: only the file's own mode decides readability
    try:
        low, high, mport = free_low_port(), h.free_port_dual(), h.free_port(socket.SOCK_STREAM)
        listen = ["127.0.0.1:%d" % low, "127.0.0.1:%d" % high, "[::1]:%d" % high]
        control = os.path.join(tmp, "run", "stunbox.sock")  # run/ does not exist: stunbox creates it
        srv = start(exe, config_text(listen, "nobody", control, "127.0.0.1:%d" % mport), tmp)
        try:
            pid = srv.proc.pid
            want = "stunbox: running as user nobody, group %s (uid %d, gid %d)" % (group_name, uid, gid)
            ready = srv.wait_line(r"^stunbox: ready", 0)
            said = srv.wait_line("^" + re.escape(want) + "$", 0)
            check(said is not None and said < ready, "startup line %r before the ready line" % want)

            st = status_fields("/proc/%d/status" % pid)
            ids = "%d\t%d\t%d\t%d"
            check(st["Uid"] == ids % ((uid,) * 4), "Uid all nobody: %r" % st["Uid"])
            check(st["Gid"] == ids % ((gid,) * 4), "Gid all nobody's group: %r" % st["Gid"])
            check(st["Groups"].split() == [str(gid)], "Groups only %d (no 0): %r" % (gid, st["Groups"]))
            check(st["NoNewPrivs"] == "1", "NoNewPrivs 1")
            check(int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0,
                  "no capabilities: CapEff %s CapPrm %s" % (st["CapEff"], st["CapPrm"]))
            # Every thread, including the console and metrics threads started before the drop.
            bad = []
            tids = os.listdir("/proc/%d/task" % pid)
            for tid in tids:
                t = status_fields("/proc/%d/task/%s/status" % (pid, tid))
                if (t["Uid"] != ids % ((uid,) * 4) or t["Gid"] != ids % ((gid,) * 4) or int(t["CapEff"], 16) != 0
                        or t["NoNewPrivs"] != "1"):
                    bad.append("%s %s" % (tid, t["Name"]))
            check(len(tids) >= 4 and not bad, "all %d threads switched and locked (%s)" % (len(tids), bad or "ok"))

            answered = 0
            for l in listen:
                if check(stun_ok(l), "STUN Binding answered on %s after the drop" % l):
                    answered += 1

            sock_st = os.lstat(control)
            dir_st = os.lstat(os.path.dirname(control))
            check(stat.S_ISSOCK(sock_st.st_mode) and (sock_st.st_uid, sock_st.st_gid) == (uid, gid),
                  "control socket handed to nobody (%d:%d)" % (sock_st.st_uid, sock_st.st_gid))
            check((dir_st.st_uid, dir_st.st_gid) == (uid, gid), "the control directory it created handed to nobody")
            r = subprocess.run([cli, "-s", control, "show", "port", "stats", "all"], capture_output=True, text=True,
                               timeout=CLI_TIMEOUT)
            check(r.returncode == 0 and "RX-packets" in r.stdout,
                  "stunbox-cli as root works over the control socket (rc %d, %r)" % (r.returncode, r.stderr.strip()))
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=CLI_TIMEOUT) as resp:
                body = resp.read().decode()
            check(resp.status == 200 and "stunbox_build_info" in body, "/metrics (bound before the drop) answers")

            # The config file readable only by root: nobody cannot re-read it.
            os.chmod(srv.config, 0o600)
            line = reload_line(srv)
            check(line is not None and line.startswith("stunbox: reload failed, running config kept: cannot open ")
                  and line.endswith(": Permission denied"),
                  "reload of a file nobody cannot read: one failure line: %r" % line)
            check(srv.proc.poll() is None and all(stun_ok(l) for l in listen), "still serving after the failed reload")
            answered += len(listen)

            # Readable again, asking for another user: restart-only, named as such, ids unchanged.
            with open(srv.config, "w") as f:
                f.write(config_text(listen, "root", control, "127.0.0.1:%d" % mport))
            os.chmod(srv.config, 0o644)
            line = reload_line(srv)
            check(line is not None and line.startswith("stunbox: reloaded")
                  and "NOT applied (need a restart): socket.user" in line,
                  "reload names socket.user as restart-only: %r" % line)
            check(status_fields("/proc/%d/status" % pid)["Uid"] == ids % ((uid,) * 4), "still nobody after it")
        finally:
            counters = stop_and_check(srv)
        check(counters.get("stun_success", 0) >= answered,
              "final counters count the answers (%s >= %d)" % (counters.get("stun_success"), answered))
        check(not os.path.lexists(control), "control socket removed at exit (by nobody)")

        # A control directory that exists and nobody cannot write: said at start; the socket stays.
        fixed = os.path.join(tmp, "fixed")
        os.mkdir(fixed, 0o755)
        control = os.path.join(fixed, "stunbox.sock")
        port = h.free_port_dual()
        srv = start(exe, config_text(["127.0.0.1:%d" % port], "nobody", control), tmp)
        try:
            check(srv.wait_line(r"^stunbox: note: user nobody cannot write %s: " % re.escape(fixed), 0) is not None,
                  "note that nobody cannot write a control directory it did not create")
            check(stun_ok("127.0.0.1:%d" % port), "serving with the note")
            check(os.lstat(fixed).st_uid == 0, "a directory that was there is never handed over")
        finally:
            stop_and_check(srv)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_not_root(exe):
    uid, gid = nobody()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        print("SKIP setpriv (util-linux) not installed")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="stunbox-privdrop-")
    os.chmod(tmp, 0o755)
    try:
        # Runs the real binary as nobody; exec keeps the PID, so the Server's process is stunbox itself.
        wrapper = os.path.join(tmp, "as-nobody.sh")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec %s --reuid=%d --regid=%d --clear-groups %s "$@"\n' % (setpriv, uid, gid, exe))
        os.chmod(wrapper, 0o755)
        port = h.free_port_dual()
        cfg = os.path.join(tmp, "root.yaml")
        with open(cfg, "w") as f:
            f.write(config_text(["127.0.0.1:%d" % port], "root", ""))
        os.chmod(cfg, 0o644)
        nobody_cfg = os.path.join(tmp, "nobody.yaml")
        with open(nobody_cfg, "w") as f:
            f.write(config_text(["127.0.0.1:%d" % port], "nobody", ""))
        os.chmod(nobody_cfg, 0o644)
        r = subprocess.run([wrapper, "-c", cfg], capture_output=True, text=True, timeout=CLI_TIMEOUT)
        check(r.returncode == 1, "as nobody, socket.user=root: exit 1 (got %d)" % r.returncode)
        check(r.stderr == "stunbox: socket.user: cannot switch to user root: not running as root\n",
              "one line on stderr: %r" % r.stderr)
        check("listening" not in r.stdout and "ready" not in r.stdout, "nothing bound or served: %r" % r.stdout)

        # Root, but without CAP_SETUID/CAP_SETGID (what a systemd CapabilityBoundingSet= lacking them leaves).
        r = subprocess.run([setpriv, "--bounding-set", "-setuid,-setgid", exe, "-c", nobody_cfg],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT)
        check(r.returncode == 1 and r.stderr == "stunbox: socket.user: cannot switch to user nobody: running as root "
              "but without CAP_SETUID and CAP_SETGID\n" and "listening" not in r.stdout,
              "root without CAP_SETUID/CAP_SETGID: exit 1 and one line before binding (rc %d, %r)"
              % (r.returncode, r.stderr))

        srv = start(wrapper, config_text(["127.0.0.1:%d" % port], "nobody", ""), tmp)
        try:
            check(srv.wait_line(r"^stunbox: running as user nobody, ", 0) is not None,
                  "already nobody with socket.user=nobody: serves and says so")
            st = status_fields("/proc/%d/status" % srv.proc.pid)
            check(st["Uid"].split() == [str(uid)] * 4 and st["NoNewPrivs"] == "1", "nobody, NoNewPrivs 1")
            check(stun_ok("127.0.0.1:%d" % port), "STUN answered")
        finally:
            stop_and_check(srv)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("test", choices=["drop", "not-root"])
    ap.add_argument("--stunbox", required=True)
    ap.add_argument("--cli")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP needs root: the test starts stunbox as root and checks that it drops to nobody")
        return SKIP
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        print("SKIP no user nobody on this system")
        return SKIP
    exe = os.path.abspath(a.stunbox)
    if a.test == "drop":
        if not a.cli:
            ap.error("drop needs --cli")
        test_drop(exe, os.path.abspath(a.cli))
    elif test_not_root(exe) == SKIP:
        return SKIP
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
