#!/usr/bin/env python3
"""Runs docs/tutorial.md exactly as written (issue 16, "the tutorial re-run in
a test"): saves the files it asks the reader to save, runs its ```sh blocks in
order in a fresh folder (the tutorial's /tmp/thermo) with the build under
test on PATH, and checks that every block succeeds and prints the output the
tutorial shows after it. Ports 6001 and 6002 are replaced by free ones.
The marker convention is documented at the top of the tutorial.

Output check: each line of an output block must appear among the lines the
block printed (stdout and stderr), after both sides are normalised: runs of
blanks are one blank, hex strings of 16 digits or more are <hex>, numbers are
<n> (pids, timings, counts and ids vary between runs), and lines may come in
any order (parallel steps).

usage: tutorial_test.py BIN_DIR TUTORIAL_MD
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 60  # for `retry` blocks: poll, never sleep a fixed time


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Block:
    def __init__(self, lang, text, line, marker):
        self.lang, self.text, self.line, self.marker = lang, text, line, marker


MARKER = re.compile(r"<!-- test: (\w+)(.*?)(?:-->|$)")


def parse(md):
    """The tutorial as a list of Blocks: fenced code blocks, and `sh` markers
    (hidden commands, lang 'hidden-sh'). Each block carries the marker of the
    line before it (or None)."""
    lines = md.split("\n")
    blocks, marker, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line.strip())
        if m and m.group(1) == "sh":
            body, i = [], i + 1
            while lines[i].strip() != "-->":
                body.append(lines[i])
                i += 1
            blocks.append(Block("hidden-sh", "\n".join(body) + "\n", i, ("sh", m.group(2).strip())))
        elif m and m.group(1) != "convention":
            marker = (m.group(1), m.group(2).strip())
        elif line.startswith("```"):
            lang, start, body = line[3:].strip(), i + 1, []
            i += 1
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append(Block(lang, "\n".join(body) + "\n", start, marker))
            marker = None
        i += 1
    return blocks


def normalise(line, folder):
    line = line.replace(folder, "<dir>")
    line = re.sub(r"\b[0-9a-f]{16,}\b", "<hex>", line)
    line = re.sub(r"\d+(\.\d+)?", "<n>", line)
    return " ".join(line.split())


def missing_lines(expected, printed, folder):
    got = {normalise(l, folder) for l in printed.split("\n")}
    return [l for l in expected.split("\n") if l.strip() and normalise(l, folder) not in got]


class Shell:
    """Runs blocks one after another as one reader would in one terminal:
    the working directory and exported variables carry over."""

    def __init__(self, cwd, env_file):
        self.cwd, self.env_file = cwd, env_file

    def run(self, text, want_rc):
        script = ("set -o pipefail\n%s\nsource %s\ncd %s\n%s\n"
                  "rc=$?\npwd > %s.cwd\nexport -p > %s\nexit $rc\n" %
                  ("set -e" if want_rc == 0 else "", self.env_file, self.cwd, text,
                   self.env_file, self.env_file))
        p = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        if os.path.exists(self.env_file + ".cwd"):
            with open(self.env_file + ".cwd") as f:
                self.cwd = f.read().strip() or self.cwd
        return p.returncode, p.stdout


def main():
    bin_dir, tutorial = os.path.abspath(sys.argv[1]), sys.argv[2]
    with open(tutorial) as f:
        md = f.read()
    if "<!-- test: convention" not in md:
        fail("the tutorial does not document the test's marker convention at its top")
    top = tempfile.mkdtemp(prefix="aex-tutorial.")
    folder = os.path.join(top, "thermo")
    p1 = free_port()
    p2 = free_port()
    while p2 == p1:
        p2 = free_port()
    md = md.replace("/tmp/thermo", folder)
    md = re.sub(r"\b6001\b", str(p1), md)
    md = re.sub(r"\b6002\b", str(p2), md)
    env_file = os.path.join(top, "env.sh")
    env = dict(os.environ)
    env["PATH"] = bin_dir + ":" + env["PATH"]
    with open(env_file, "w") as f:
        f.write("export PATH=%s\n" % env["PATH"])
    shell = Shell(top, env_file)
    try:
        run_tutorial(parse(md), shell, folder)
    finally:
        # Whatever step failed: nothing left running or on disk.
        if os.path.exists(os.path.join(folder, "app.yaml")):
            for cmd in ("down", "nodes stop"):
                subprocess.run("cd %s && %s/aex %s app.yaml -q" % (folder, bin_dir, cmd),
                               shell=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        shutil.rmtree(top, ignore_errors=True)


def run_tutorial(blocks, shell, folder):
    ran = outputs = 0
    i = 0
    while i < len(blocks):
        b = blocks[i]
        kind, arg = b.marker or (None, "")
        where = "tutorial line %d" % b.line
        if kind == "file":
            with open(os.path.join(shell.cwd, arg), "w") as f:
                f.write(b.text)
        elif kind == "edit":
            if i + 1 >= len(blocks):
                fail("%s: 'edit' needs a block with the replacement after it" % where)
            path = os.path.join(shell.cwd, arg)
            with open(path) as f:
                text = f.read()
            if b.text not in text:
                fail("%s: %s does not hold the line to change:\n%s" % (where, arg, b.text))
            with open(path, "w") as f:
                f.write(text.replace(b.text, blocks[i + 1].text))
            i += 1
        elif b.lang in ("sh", "hidden-sh") and kind != "skip":
            want_rc = 0
            m = re.match(r"exit=(\d+)", arg)
            if m:
                want_rc = int(m.group(1))
            expected = None
            if i + 1 < len(blocks) and blocks[i + 1].lang == "" and blocks[i + 1].marker is None:
                expected = blocks[i + 1].text
                i += 1
            end = time.monotonic() + DEADLINE_S
            while True:
                rc, out = shell.run(b.text, want_rc)
                missing = missing_lines(expected, out, folder) if expected else []
                if rc == want_rc and not missing:
                    break
                # Only a `retry` block may race with the application (a
                # periodic event between two commands): run it again.
                if kind != "retry" or time.monotonic() > end:
                    fail("%s:\n%s\nexit code %d (expected %d)%s\nprinted:\n%s" %
                         (where, b.text, rc, want_rc,
                          "; missing lines:\n" + "\n".join(missing) if missing else "", out))
                time.sleep(0.2)
            ran += 1
            outputs += expected is not None
        elif b.lang in ("c", "cpp", "yaml") and kind != "skip":
            fail("%s: a ```%s block with no 'file' or 'edit' marker: the test cannot use it "
                 "(mark it, or 'skip' it with a reason)" % (where, b.lang))
        i += 1
    if ran < 10 or outputs < 8:
        fail("only %d shell blocks (%d with outputs) found: the parser lost the tutorial" %
             (ran, outputs))
    print("tutorial: %d shell blocks run, %d outputs checked" % (ran, outputs))


if __name__ == "__main__":
    main()
