#!/usr/bin/env python3
"""Docs that cannot drift: every example in README.md and docs/*.md is run.

An example is a fenced block whose first line is `$ netshape ...` (or
`$ build/netshape ...`); each `$ netshape` line in it is run from the
repository root with NO_COLOR=1 (stderr then stdout, as a terminal shows
netshape's output: diagnostics are written first), and the lines after it are
what it must print:

- a line `...` alone (indentation allowed) matches any run of lines, none too;
- a last line `(exit N)` checks the exit code (otherwise it is not checked);
- trailing spaces and trailing empty lines do not count.

`netshape run` examples need netshape-torch beside netshape; where it was not
built (the sanitizer build) they are skipped and said so. docs/cli.md is
generated and checked by its own test.

  doc-examples.py --bin build/netshape            check; prints 'N passed, N failed'
  doc-examples.py --bin build/netshape --update   rewrite the outputs, then read the diff
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
from functools import lru_cache

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMMAND = re.compile(r"^\$ (?:build/)?netshape\b(.*)$")
EXIT = re.compile(r"^\(exit (\d+)\)$")


def doc_files():
    files = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
    return [f for f in files if f.name != "cli.md"]


def fenced_blocks(lines):
    """(first, last) line indices of each fenced block's body."""
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            yield i + 1, j
            i = j + 1
        else:
            i += 1


def examples(lines, first, last):
    """Each `$ netshape` line of a block: (line index, arguments, expected lines, exit code)."""
    out = []
    i = first
    while i < last:
        m = COMMAND.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < last and not lines[j].startswith("$ "):
            j += 1
        expected = lines[i + 1:j]
        code = None
        if expected and EXIT.match(expected[-1].strip()):
            code = int(EXIT.match(expected[-1].strip()).group(1))
            expected = expected[:-1]
        out.append((i, m.group(1), expected, code, j))
        i = j
    return out


def trim(lines):
    lines = [l.rstrip() for l in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def matches(expected, actual):
    expected, actual = trim(expected), trim(actual)

    @lru_cache(maxsize=None)
    def at(i, j):
        if i == len(expected):
            return j == len(actual)
        if expected[i].strip() == "...":
            return any(at(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and expected[i] == actual[j] and at(i + 1, j + 1)

    return at(0, 0)


def run(binary, args):
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    p = subprocess.run(["bash", "-c", f'"{binary}"{args} 2>&1'], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    return p.stdout.split("\n"), p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--update", action="store_true")
    a = ap.parse_args()
    binary = str(pathlib.Path(a.bin).resolve())
    has_torch = (pathlib.Path(binary).parent / "netshape-torch").exists()
    passed = failed = skipped = 0
    for doc in doc_files():
        lines = doc.read_text().split("\n")
        replacements = []
        for first, last in fenced_blocks(lines):
            if not COMMAND.match(lines[first] if first < last else ""):
                continue
            for at, args, expected, code, end in examples(lines, first, last):
                where = f"{doc.relative_to(ROOT)}:{at + 1}: $ netshape{args}"
                if args.split()[:1] == ["run"] and not has_torch:
                    skipped += 1
                    print(f"skip {where} (no netshape-torch in this build)")
                    continue
                actual, rc = run(binary, args)
                ok = matches(expected, actual) and (code is None or code == rc)
                if ok:
                    passed += 1
                    continue
                if a.update and not any(l.strip() == "..." for l in expected):
                    new = trim(actual) + ([f"(exit {rc})"] if code is not None else [])
                    replacements.append((at + 1, end, new))
                    print(f"updated {where}")
                    passed += 1
                    continue
                failed += 1
                print(f"FAIL {where}" + ("" if code is None or code == rc else f" (exit {rc}, expected {code})"))
                print("  expected:\n    " + "\n    ".join(trim(expected)))
                print("  actual:\n    " + "\n    ".join(trim(actual)))
        for begin, end, new in reversed(replacements):
            lines[begin:end] = new
        if replacements:
            doc.write_text("\n".join(lines))
    print(f"doc examples: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
