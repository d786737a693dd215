#!/usr/bin/env python3
"""Every arrow points one way: no source file includes a pass further down
the pipeline than itself (docs/architecture.md). The levels, upstream first:

  0  text, diagnostic, json_cursor, io, expr, formula, layers  (no pass: helpers and the kinds)
  1  kinds            (the table of kinds: names, arguments, defaults, traits)
  2  network          (the graph)
  3  parse            (spec text -> the graph)
  4  evaluate         (shapes)
  5  analysis         (costs, from the shapes)
  6  pipeline         (evaluate, then analyse)
  7  symbolic, explain, fix, graph, export, solve, torch_net  (passes over an evaluation; none includes another)
  8  report, kinds_doc (formats an evaluation; the documents generated from the kind table)
  9  cli_common, run_options, main, torch_main, wasm_api  (the commands)

A file may include its own header and anything on a lower level; on its own
level only its own header, but for the helpers (0) and the commands (9),
which share code among themselves. Exit 1 naming each include that points the wrong way.

    tests/layering_test.py [SRC_DIR]
"""
import pathlib
import re
import sys

LEVELS = {
    0: ["text", "diagnostic", "json_cursor", "io", "expr", "formula", "layers"],
    1: ["kinds"],
    2: ["network"],
    3: ["parse"],
    4: ["evaluate"],
    5: ["analysis"],
    6: ["pipeline"],
    7: ["symbolic", "explain", "fix", "graph", "export", "solve", "torch_net"],
    8: ["report", "kinds_doc"],
    9: ["cli_common", "run_options", "main", "torch_main", "wasm_api"],
}
level = {name: k for k, names in LEVELS.items() for name in names}
src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent / "src")
bad, seen = [], 0
for f in sorted(list(src.glob("*.cc")) + list(src.glob("*.h"))):
    me = f.stem
    if me not in level:
        bad.append(f"{f.name}: not on any level (add it to LEVELS in tests/layering_test.py)")
        continue
    for line in f.read_text().splitlines():
        m = re.match(r'#include "([a-z_]+)\.h"', line)
        if not m:
            continue
        other = m.group(1)
        seen += 1
        if other == me:
            continue
        if other not in level:
            bad.append(f"{f.name} includes {other}.h, which is on no level")
        elif level[other] > level[me] or (level[other] == level[me] and level[me] not in (0, 9)):
            bad.append(f"{f.name} (level {level[me]}) includes {other}.h (level {level[other]}): an arrow pointing "
                       "back up the pipeline")
for b in bad:
    print("FAIL", b)
print(f"{seen} includes checked, {len(bad)} pointing the wrong way")
sys.exit(1 if bad else 0)
