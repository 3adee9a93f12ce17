#!/usr/bin/env python3
"""Library code does not print (docs/architecture.md): lib/ hands user-facing lines to a
backend::Reporter and the app alone writes them. This lint fails on any printing call in lib/:
the printf and puts families, fwrite, perror, std::cout/cerr/clog, write(2) to fd 1 or 2.
snprintf and friends (formatting into a buffer) are fine. A line that must print anyway says
why with a `lint: prints` comment on the same line.

    library_prints.py SOURCE_ROOT
"""

import os
import re
import sys

CALL = re.compile(r"(?<![\w.])(?:std::)?(printf|fprintf|vprintf|vfprintf|dprintf|puts|fputs|putchar|fputc|putc|"
                  r"fwrite|perror)\s*\(")
STREAM = re.compile(r"\bstd::(cout|cerr|clog)\b")
RAW_WRITE = re.compile(r"(?<![\w.])::?write\s*\(\s*(1|2|STDOUT_FILENO|STDERR_FILENO)\s*,")
EXCUSED = "lint: prints"


def code_of(line: str) -> str:
    """The line without its // comment and string literals (so a message that says "printf" is not a call)."""
    line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
    return line.split("//", 1)[0]


def offences(path: str, text: str) -> list[str]:
    out = []
    in_block = False
    for n, line in enumerate(text.splitlines(), 1):
        if in_block:
            if "*/" not in line:
                continue
            line = line.split("*/", 1)[1]
            in_block = False
        if "/*" in line and "*/" not in line.split("/*", 1)[1]:
            in_block = True
            line = line.split("/*", 1)[0]
        code = code_of(line)
        if EXCUSED in line:
            continue
        for rx in (CALL, STREAM, RAW_WRITE):
            m = rx.search(code)
            if m:
                out.append(f"{path}:{n}: {m.group(0).strip()} in library code: hand the line to a backend::Reporter")
                break
    return out


def self_test() -> bool:
    """The lint must be able to fail: known offences are caught, known non-offences are not."""
    bad = ['std::printf("x");', 'fprintf(stderr, "%d", 1);', "std::cout << 1;", "::write(2, buf, n);",
           'std::fwrite(s.data(), 1, n, stdout);', 'puts("x");']
    good = ['std::snprintf(buf, sizeof buf, "x");', 'out += "printf(";', "// printf(x)",
            "::write(fd, buf, n);", "  report.info(line);", 'std::printf("x");  // lint: prints (why)']
    return all(offences("t", b) for b in bad) and not any(offences("t", g) for g in good)


def main() -> int:
    if not self_test():
        print("library_prints: FAIL: the lint's own self-test failed")
        return 1
    root = os.path.join(sys.argv[1], "lib")
    found, files = [], 0
    for d, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith((".cc", ".h", ".c")):
                files += 1
                p = os.path.join(d, name)
                with open(p, encoding="utf-8") as f:
                    found += offences(os.path.relpath(p, sys.argv[1]), f.read())
    for line in found:
        print(line)
    print(f"library_prints: {files} files under lib/, {len(found)} printing call(s): " + ("FAIL" if found else "PASS"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
