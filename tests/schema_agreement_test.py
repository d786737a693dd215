#!/usr/bin/env python3
"""The schema and the parser agree on every argument: for every layer kind of
the kind table (src/netshape_kinds.json), random argument objects — each
argument absent, a valid value, a value of the wrong type or out of range, a
misspelt key — are judged by specs/schema.json (python3-jsonschema) and by
`netshape check`; the schema must accept exactly the layers whose arguments
the parser takes (its argument-level codes: wrong-type, out-of-range,
missing-field, unknown-field, unsupported). Shape errors are the evaluator's
and no schema's business; merges and containers are left out (their fields
are layers and names).

Known and documented differences are kept out of the draws, not hidden: the
schema's "integer" takes 3.0 (JSON Schema counts it an integer; netshape
refuses it), and Unflatten's "at most one -1" is the parser's alone.

    tests/schema_agreement_test.py NETSHAPE [--seed N] [--per-kind N]
"""
import argparse
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARG_CODES = {"wrong-type", "out-of-range", "missing-field", "unknown-field", "unsupported"}
F32 = 3.4028234663852886e38


def valid_value(rng, a, rank):
    t = a["type"]
    name = a["name"]
    if t in ("int", "int (inferred)"):
        if name in ("length", "index"):
            return rng.randint(0, 5)
        return rng.randint(1, 9)
    if t == "int or list":
        lo = 0 if name in ("padding", "output_padding") else 1
        return rng.randint(lo, 4) if rng.random() < 0.6 else [rng.randint(lo, 4) for _ in range(rank)]
    if t == "bool":
        return rng.random() < 0.5
    if t == "number":
        return round(rng.uniform(0.01, 0.99), 3)
    if t == "float32":
        return rng.choice([0.0, -2.5, 1e10, 3.4e38])
    if t == "choice":
        return rng.choice(a["values"])
    if t == "dim":
        return rng.randint(-4, 3)
    # "see doc": the arguments whose form is their own
    special = {
        "padding": rng.randint(0, 3) if rng.random() < 0.5 else [rng.randint(0, 3) for _ in range(2 * max(rank, 1))],
        "divisor_override": rng.choice([1, 2, -3]),
        "output_size": rng.randint(1, 4) if rank == 1 or rng.random() < 0.5 else [rng.choice([1, 3, None]) for _ in range(rank)],
        "normalized_shape": rng.choice([4, [4], [2, 4]]),
        "dim": rng.choice([1, -1, None]),
        "size": rng.randint(1, 8),
        "scale_factor": rng.choice([2, 1.5, [2, 2]]),
        "align_corners": rng.choice([True, False, None]),
        "recompute_scale_factor": rng.choice([True, None]),
        "unflattened_size": rng.choice([[2, 2], [-1, 2], [4]]),
        "start": rng.randint(-3, 3),
        "end": rng.choice([None, 3, -1, 20]),
        "dims": rng.choice([[0, 1], [1, 0], [0], [-1, 0]]),
        "shape": rng.choice([[-1], [2, -1], [4, 2], [0, 8], ["input.shape[0]", -1], ["x.size(9)"]]),
        "index": rng.randint(-2, 2),
        "shifts": rng.choice([1, -3, [1, 2], [2]]),
        "sizes": rng.choice([[-1], [2, -1], [3, 4, 5], ["input.shape[0]", -1], ["x.size(9)"]]),
        "size_from": rng.choice(["input", ""]),
        "padding_idx": rng.choice([0, -1, None, 3]),
        "max_norm": rng.choice([1.0, 0.5, None]),
    }
    return special[name]


def invalid_value(rng, a):
    t = a["type"]
    if t in ("int", "int (inferred)", "int or list", "dim"):
        return rng.choice(["3", 2.5, True, -5 if a["name"] not in ("start",) else "x", 1e300])
    if t == "bool":
        return rng.choice([1, "true", None if False else 0])
    if t in ("number", "float32"):
        return rng.choice(["0.5", True, 1e39 if t == "float32" else 2e300 if a["name"] in ("eps",) else -1.5])
    if t == "choice":
        return rng.choice(["nope", 3])
    return rng.choice(["x", {"a": 1}])


def layer_for(rng, kind):
    rank = kind["rank"]
    layer = {"type": kind["name"]}
    expect_bad = False
    for a in kind["args"]:
        r = rng.random()
        if a["required"] and a["type"] != "int (inferred)":
            r = max(r, 0.15)  # mostly given
        if r < 0.15:
            if a["required"] and a["type"] != "int (inferred)":
                expect_bad = True
            continue
        if r < 0.85:
            layer[a["name"]] = valid_value(rng, a, rank)
        else:
            layer[a["name"]] = invalid_value(rng, a)
    if kind["name"] in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d") and rng.random() < 0.7:
        layer.pop("size" if rng.random() < 0.5 else "scale_factor", None)  # mostly one of the two
    if rng.random() < 0.08:
        layer["kernel_sise" if "kernel_size" in layer else "inplac"] = 1  # a misspelt key
    return layer, expect_bad


def parser_arg_errors(netshape, spec, tmp):
    path = os.path.join(tmp, "s.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    r = subprocess.run([netshape, "check", path, "--format", "json"], capture_output=True, text=True)
    if not r.stdout:
        return None, r.stderr
    d = json.loads(r.stdout)
    return [x for x in d["diagnostics"] if x["severity"] == "error" and x["code"] in ARG_CODES], ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("netshape")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--per-kind", type=int, default=16)
    a = ap.parse_args()
    schema = json.loads((ROOT / "specs" / "schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    kinds = json.loads((ROOT / "src" / "netshape_kinds.json").read_text())["kinds"]
    rng = random.Random(a.seed)
    failures = accepted = refused = 0
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            if kind["family"] in ("merge", "container"):
                continue
            for _ in range(a.per_kind):
                layer, _ = layer_for(rng, kind)
                if kind["name"] == "Unflatten" and isinstance(layer.get("unflattened_size"), list) and \
                        layer["unflattened_size"].count(-1) > 1:
                    continue  # the parser's own rule (documented)
                rank = kind["rank"] or 2
                spec = {"input": [1, 4] + [8] * rank, "layers": [layer]}
                schema_ok = validator.is_valid(spec)
                errors, crash = parser_arg_errors(a.netshape, spec, tmp)
                if errors is None:
                    print(f"FAIL netshape gave no JSON for {json.dumps(layer)}: {crash[:200]}")
                    failures += 1
                    continue
                parser_ok = not errors
                accepted += parser_ok
                refused += not parser_ok
                if schema_ok != parser_ok:
                    failures += 1
                    why = "; ".join(e.message for e in list(validator.iter_errors(spec))[:2]) if not schema_ok else \
                        "; ".join(f"{e['code']}: {e['message']}" for e in errors[:2])
                    print(f"FAIL {kind['name']}: schema {'accepts' if schema_ok else 'refuses'}, parser "
                          f"{'accepts' if parser_ok else 'refuses'}: {json.dumps(layer)}\n     {why}")
    print(f"schema and parser: {accepted + refused} layers of {sum(k['family'] not in ('merge', 'container') for k in kinds)} "
          f"kinds (seed {a.seed}): {accepted} accepted and {refused} refused by both, {failures} disagreements")
    sys.exit(1 if failures or refused < 100 or accepted < 100 else 0)


if __name__ == "__main__":
    main()
