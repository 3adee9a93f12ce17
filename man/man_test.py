#!/usr/bin/env python3
"""The man pages against what they document.

    man_test.py --source-root DIR --stunbox EXE --cli EXE --load EXE --hugepages SCRIPT --bind-nic SCRIPT PAGE...

- every page renders without a groff warning (lintian's check; skipped without man-db);
- every option that a program's --help mentions is in its page, and every option the
  page's OPTIONS section lists is in --help (the pages are generated from --help, so
  this guards the generator, not the authors);
- every key of docs/configuration.md's tables is in stunbox.yaml(5), and every key
  the shipped config/stunbox.yaml sets is documented there;
- man/mkman.py itself on a small fixture: escapes, tagged lists, verbatim fallback.
Exit 0 on pass, 1 with a FAIL line per failure.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

failures = []
OPTION = re.compile(r"(?<![\w\-/.=])(--?[A-Za-z][\w\-]*)")


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def deroff(text):
    """Roff source to roughly what a reader sees (enough to look for words)."""
    text = re.sub(r"\\f[BIRP]", "", text)
    for a, b in (("\\-", "-"), ("\\(aq", "'"), ("\\(ga", "`"), ("\\(ti", "~"), ("\\(ha", "^"), ("\\(dq", '"'),
                 ("\\&", ""), ("\\e", "\\"), ("\\(bu", "*")):
        text = text.replace(a, b)
    return text


def sections(roff):
    """{SECTION: roff lines} of a page."""
    out, cur = {}, None
    for l in roff.splitlines():
        m = re.match(r'\.SH\s+"?([^"]*)"?', l)
        if m:
            cur = deroff(m.group(1)).upper()
            out[cur] = []
        elif cur is not None:
            out[cur].append(l)
    return out


def render_warnings(path):
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", path],
                       capture_output=True, text=True, env=env, timeout=60)
    return r.returncode, r.stderr.strip()


def help_text(program):
    return subprocess.run(program + ["--help"], capture_output=True, text=True, timeout=60, check=True).stdout


def check_options(name, program, page_path):
    help_out = help_text(program)
    roff = open(page_path).read()
    text = deroff(roff)
    in_help = set(OPTION.findall(help_out))
    missing = sorted(o for o in in_help if o not in set(OPTION.findall(text)))
    check(not missing, "%s: every option --help mentions is in the page%s" % (
        name, "" if not missing else " (missing: %s)" % " ".join(missing)))
    opt = sections(roff).get("OPTIONS", [])
    tags = [deroff(opt[i + 1]) for i, l in enumerate(opt[:-1]) if l == ".TP"]
    listed = {o for t in tags for o in OPTION.findall(t)}
    check(len(listed) >= 1, "%s: the page's OPTIONS section lists options (%d)" % (name, len(listed)))
    extra = sorted(listed - in_help)
    check(not extra, "%s: every option in the page's OPTIONS is in --help%s" % (
        name, "" if not extra else " (not in --help: %s)" % " ".join(extra)))


def doc_keys(path):
    """Dotted keys from the tables under '## Keys' of docs/configuration.md."""
    keys, prefix, in_keys = [], "", False
    for l in open(path).read().splitlines():
        if l.startswith("## "):
            in_keys = l.strip() == "## Keys"
        elif in_keys and l.startswith("#### "):
            prefix = l.strip("# `\n") + "."  # dpdk.ports[i]: its table names the keys without the prefix
        elif in_keys and l.startswith("### "):
            prefix = ""
        elif in_keys and l.startswith("| `"):
            keys.append(prefix + l.split("`")[1])
    return keys


def config_paths(path):
    """Dotted paths of the keys with a value in a block-style YAML file (no YAML library needed)."""
    stack, out = [], []
    for l in open(path).read().splitlines():
        if not l.strip() or l.lstrip().startswith("#"):
            continue
        m = re.match(r"( *)([A-Za-z_][\w]*):\s*(.*)$", l)
        if m is None:
            continue
        depth = len(m.group(1))
        stack = [(d, k) for d, k in stack if d < depth] + [(depth, m.group(2))]
        value = m.group(3).split(" #")[0].strip()
        if value:
            out.append(".".join(k for _, k in stack))
    return out


def check_config_page(source_root, page_path):
    text = deroff(open(page_path).read())
    keys = doc_keys(os.path.join(source_root, "docs", "configuration.md"))
    check(len(keys) >= 40, "docs/configuration.md: the key tables hold %d keys" % len(keys))
    missing = [k for k in keys if k.split("[i].")[-1] not in text]
    check(not missing, "stunbox.yaml(5): every documented key is in the page%s" % (
        "" if not missing else " (missing: %s)" % " ".join(missing)))
    shipped = config_paths(os.path.join(source_root, "config", "stunbox.yaml"))
    check(len(shipped) >= 20, "config/stunbox.yaml sets %d keys" % len(shipped))
    undocumented = [p for p in shipped if p not in keys]
    check(not undocumented, "every key config/stunbox.yaml sets is documented in docs/configuration.md%s" % (
        "" if not undocumented else " (not documented: %s)" % " ".join(undocumented)))
    absent = [p for p in shipped if p not in text]
    check(not absent, "stunbox.yaml(5) names every key config/stunbox.yaml sets%s" % (
        "" if not absent else " (absent: %s)" % " ".join(absent)))


FIXTURE = """Usage: demo [-x N] FILE

Demo does things.

.a line that starts with a dot, and a back\\\\slash

Options:
  -x, --extra N   text that
                  continues
      --long      other

Layout:
  not a tag line
    deeper: kept as it is

Keys:
  key            type     default
  mode           enum     socket

Exit: 0 fine, 1 not.
"""


def check_generator(source_root, tmp):
    mkman = os.path.join(source_root, "man", "mkman.py")
    inc = os.path.join(tmp, "demo.h2m")
    with open(inc, "w") as f:
        f.write("comment\n[NAME]\ndemo \\- a demo\n[SEE ALSO]\nnothing\n")
    out = os.path.join(tmp, "demo.1")
    prog = [sys.executable, "-c", "import sys; sys.stdout.write(%r)" % FIXTURE]
    r = subprocess.run([sys.executable, mkman, "help", "--page", "demo.1", "--version", "9", "--include", inc,
                        "-o", out, "--"] + prog, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "mkman.py typesets a fixture --help (%s)" % r.stderr.strip())
    if r.returncode != 0:
        return
    roff = open(out).read()
    s = sections(roff)
    check(list(s) == ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "LAYOUT", "KEYS", "EXIT STATUS", "SEE ALSO"],
          "fixture: sections in order (%s)" % ", ".join(s))
    check("\\&.a line" in roff, "fixture: a line starting with '.' is escaped")
    check("back\\e\\eslash" in roff, "fixture: backslashes are escaped")
    check("\\fB\\-x\\fR, \\fB\\-\\-extra\\fR \\fIN\\fR" in roff, "fixture: option tags bold, arguments italic")
    check("text that continues" in roff, "fixture: continuation lines join their entry")
    check(".nf" in "\n".join(s["LAYOUT"]) and "  deeper: kept as it is" in "\n".join(s["LAYOUT"]),
          "fixture: a block that is no list nor paragraph stays verbatim")
    check(".nf" in "\n".join(s["KEYS"]) and "mode           enum     socket" in "\n".join(s["KEYS"]),
          "fixture: a table of three columns stays verbatim")
    check("0 fine, 1 not." in "\n".join(s["EXIT STATUS"]), "fixture: 'Exit: ...' becomes EXIT STATUS")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-root", required=True)
    for name in ("stunbox", "cli", "load", "hugepages", "bind-nic"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("pages", nargs="+")
    a = ap.parse_args()
    pages = {os.path.basename(p): p for p in a.pages}

    if shutil.which("man") is None:
        print("SKIP rendering: man not installed (Debian package man-db)")
    else:
        for name, path in sorted(pages.items()):
            rc, err = render_warnings(path)
            check(rc == 0 and not err, "%s renders without a warning%s" % (name, "" if not err else ": " + err))

    bash = shutil.which("bash") or "/bin/bash"
    for page, program in (("stunbox.8", [a.stunbox]), ("stunbox-cli.8", [a.cli]), ("stunbox-load.1", [a.load]),
                          ("stunbox-hugepages.8", [bash, a.hugepages]),
                          ("stunbox-bind-nic.8", [bash, getattr(a, "bind_nic")])):
        check(page in pages, "%s was built" % page)
        if page in pages:
            check_options(page, program, pages[page])
    check("stunbox.yaml.5" in pages, "stunbox.yaml.5 was built")
    if "stunbox.yaml.5" in pages:
        check_config_page(a.source_root, pages["stunbox.yaml.5"])
    with tempfile.TemporaryDirectory(prefix="stunbox-man-") as tmp:
        check_generator(a.source_root, tmp)

    print("%d checks failed" % len(failures) if failures else "all man page checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
