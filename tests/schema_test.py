#!/usr/bin/env python3
"""specs/schema.json checked with a real validator (python3-jsonschema, draft 2020-12):
every spec in specs/ validates, and the catalogue's type and range errors are caught
by the schema too. Prints 'N passed, N failed' and exits non-zero on a failure."""
import json
import pathlib
import sys

import jsonschema

root = pathlib.Path(__file__).resolve().parent.parent
schema = json.loads((root / "specs" / "schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
passed = failed = 0


def expect(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {why}")


for spec in sorted((root / "specs").glob("*.json")):
    if spec.name == "schema.json":
        continue
    errors = list(validator.iter_errors(json.loads(spec.read_text())))
    expect(spec.name, not errors, "; ".join(e.message for e in errors[:3]))

# Type and range mistakes the schema must catch as well as netshape does.
for case in ["16-string-for-int", "17-float-for-int", "18-bool-for-int", "19-1e300-for-int",
             "20-beyond-64-bits", "22-missing-out-channels", "23-missing-input", "24-unknown-field",
             "26-kernel-zero", "27-stride-negative", "28-dilation-zero", "29-negative-padding",
             "30-groups-zero", "32-zero-channels", "10-top-level-array", "12-layers-not-list",
             "48-input-zero", "50-dotted-name"]:
    doc = json.loads((root / "tests" / "catalogue" / f"{case}.json").read_text())
    expect(case, not validator.is_valid(doc), "the schema accepts it")

# The graph syntax: skips, merges, several outputs, named input dims.
graph = {"input": ["N", 3, "H", "W"], "outputs": ["skip", "head"], "layers": [
    {"name": "a", "type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
    {"name": "m", "type": "Branches", "merge": "cat", "dim": 1, "branches": [[], {"name": "b", "layers": [{"type": "SiLU"}]}]},
    {"name": "skip", "type": "Cat", "from": ["a", "m"], "crop": "center"},
    {"name": "head", "type": "Conv2d", "from": "a", "out_channels": 2, "kernel_size": 1}]}
expect("graph syntax", validator.is_valid(graph), "; ".join(e.message for e in list(validator.iter_errors(graph))[:3]))
for name, layer in [("cat of one (torch.cat([x]) is x)", {"type": "Cat", "from": ["a"]}),
                    ("a shared module", {"name": "again", "shares": "a"})]:
    doc = {"input": [1, 3, 8, 8], "layers": [{"name": "a", "type": "ReLU"}, layer]}
    expect(name, validator.is_valid(doc), "; ".join(e.message for e in list(validator.iter_errors(doc))[:3]))
# With blocks, a type may be a block's name (the schema cannot know which).
blocky = {"input": [1, 3, 8, 8], "blocks": {"B": {"layer": {"type": "ReLU"}}}, "layers": [{"type": "B", "repeat": 2}]}
expect("a block's use", validator.is_valid(blocky), "; ".join(e.message for e in list(validator.iter_errors(blocky))[:3]))
for name, layer in [("cat without from", {"type": "Cat"}),
                    ("cat of none", {"type": "Cat", "from": []}),
                    ("a kind netshape does not have", {"type": "Nonsense"}),
                    ("out_channels below 1", {"type": "Conv1d", "out_channels": -3, "kernel_size": 3}),
                    ("a misspelt argument", {"type": "Conv2d", "out_channels": 8, "kernel_sise": 3}),
                    ("a control character in a name", {"name": "a\u001b[2J", "type": "ReLU"}),
                    ("shares with arguments", {"shares": "a", "kernel_size": 3}),
                    ("merge not an op", {"type": "Branches", "merge": "sum", "branches": [[]]}),
                    ("crop other than center", {"type": "Cat", "from": ["a", "b"], "crop": "left"}),
                    ("field of another kind", {"type": "Sigmoid", "inplace": True})]:
    expect(name, not validator.is_valid({"input": [1, 3, 8, 8], "layers": [layer]}), "the schema accepts it")

print(f"schema: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
