"""Shared pieces of the fault tests: the real daemon with its output collected, namespaces, STUN probes, parsers."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time

SKIP = 77
MAGIC = 0x2112A442


class Checks:
    """PASS/FAIL lines; the failures are kept for the verdict."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures: list[str] = []

    def __call__(self, cond: bool, what: str) -> bool:
        print(("PASS " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures.append(what)
        return cond

    def verdict(self) -> int:
        print(f"{self.name}: " + ("PASS" if not self.failures else f"FAIL ({len(self.failures)})"), flush=True)
        return 0 if not self.failures else 1


class Daemon:
    """The real stunbox; stdout and stderr collected line by line, waits on lines with a deadline."""

    def __init__(self, cmd: list[str]) -> None:
        self.lines: list[str | None] = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output
            self.cond.notify_all()

    def mark(self) -> int:
        with self.cond:
            return len(self.lines)

    def wait_line(self, pattern: str, timeout: float, start: int = 0) -> int | None:
        """Index of the first line at or after `start` matching `pattern`; None on timeout or end of output."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    if line is None:
                        return None
                    if rx.search(line):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def wait_eof(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.lines or self.lines[-1] is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def text_lines(self) -> list[str]:
        with self.cond:
            return [l for l in self.lines if l is not None]

    def terminate(self, timeout: float) -> tuple[int | None, float]:
        """SIGTERM, then the exit code and seconds it took (None if it had to be killed)."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        return rc, time.monotonic() - t0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ip(*words: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip"] + list(words), capture_output=True, text=True, timeout=30)


def netns_del(*names: str) -> None:
    for ns in names:
        ip("netns", "del", ns)


def binding_request() -> tuple[bytes, bytes]:
    txid = os.urandom(12)
    return struct.pack("!HHI", 0x0001, 0, MAGIC) + txid, txid


def stun_answered(server: str, port: int, tries: int, wait_s: float) -> bool:
    """One Binding request per try (a fresh transaction each); True as soon as one gets its success response."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(tries):
            req, txid = binding_request()
            try:
                s.sendto(req, (server, port))
            except OSError:  # e.g. ENETUNREACH while the link is down: unanswered
                time.sleep(wait_s)
                continue
            deadline = time.monotonic() + wait_s
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([s], [], [], left)
                if not r:
                    break
                try:
                    data = s.recv(2048)
                except OSError:
                    break
                if len(data) >= 20 and struct.unpack("!H", data[:2])[0] == 0x0101 and data[8:20] == txid:
                    return True
        return False
    finally:
        s.close()


def parse_final(lines: list[str]) -> tuple[dict[str, int], dict[str, int], list[tuple[int, int, int, int, int]]] | None:
    """The `stunbox: final counters` block: (counters incl. "drops", drop reasons, per-queue rows); None if absent."""
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("stunbox: final counters"))
    except StopIteration:
        return None
    counters: dict[str, int] = {}
    drops: dict[str, int] = {}
    queues: list[tuple[int, int, int, int, int]] = []
    for line in lines[start + 1:]:
        m = re.match(r"^\s+port (\d+) queue (\d+) lcore \d+: rx (\d+) tx (\d+) drops (\d+)$", line)
        if m:
            queues.append(tuple(int(g) for g in m.groups()))  # type: ignore[arg-type]
            continue
        m = re.match(r"^\s+drop (\w+)\s+(\d+)$", line)
        if m:
            drops[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r"^\s+(\w+)\s+(\d+)$", line)
        if m:
            counters[m.group(1)] = int(m.group(2))
            continue
        break  # the block ends at the first other line
    return counters, drops, queues


def shown(text: str, label: str) -> int | None:
    """The integer after `label` in console output, or None."""
    m = re.search(re.escape(label) + r"\s*(\d+)", text)
    return int(m.group(1)) if m else None


def process_gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")
