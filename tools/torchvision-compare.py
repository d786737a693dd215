#!/usr/bin/env python3
"""Compare a spec with the torchvision model it stands for.

    tools/torchvision-compare.py build/netshape specs/mobilenet_v2.json \
        'torchvision.models.mobilenet_v2()'

Runs the model in PyTorch (eval mode) on the spec's input with a forward hook
on every named module, and compares netshape's table row of the same name:
output shape, parameters and buffers of leaf modules. Prints the totals from
both sides and every disagreement; exit 1 on any. Needs torch and
torchvision (Debian: python3-torchvision). A verification tool, not a CI test:
CI has no torchvision.
"""
import json
import subprocess
import sys

import torch
import torchvision  # noqa: F401  (used by the eval'd expression)


def main():
    netshape, spec, expr = sys.argv[1:4]
    table = json.loads(subprocess.run([netshape, "table", spec, "--format", "json"],
                                      capture_output=True, text=True).stdout)
    rows = {r["name"]: r for r in table["layers"]}
    model = eval(expr).eval()
    seen = {}
    for name, m in model.named_modules():
        if name:
            m.register_forward_hook(lambda m, i, o, name=name: seen.setdefault(name, o))
    with torch.no_grad():
        out = model(torch.zeros(table["input_shape"]))
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    print(f"params  torch {params:,}  netshape {table['params']:,}")
    print(f"buffers torch {buffers:,}  netshape {table['buffers']:,}")
    print(f"output  torch {list(out.shape)}  netshape {table['output_shape']}")
    bad = params != table["params"] or buffers != table["buffers"] or \
        list(out.shape) != table["output_shape"]
    shared = 0
    for name, o in seen.items():
        if name not in rows or not isinstance(o, torch.Tensor):
            continue
        shared += 1
        if list(o.shape) != rows[name]["output_shape"]:
            bad = True
            print(f"  {name}: torch {list(o.shape)} netshape {rows[name]['output_shape']}")
    print(f"{shared} modules compared by name, {len(seen)} hooked, {len(rows)} rows")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
