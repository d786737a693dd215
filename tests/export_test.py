#!/usr/bin/env python3
"""Export round trip: every spec exported by `netshape export --to pytorch`,
run in PyTorch, must have exactly netshape's module names, and each module's
output shape, the parameter and buffer counts and the output shape must be
netshape's table.

    tests/export_test.py build/netshape specs/*.json

The expected numbers are PyTorch's: the exported module is run (eval mode,
zeros of the spec's input shape) with a forward hook on every named module.
netshape's `modules` map in `table --format json` lists what such a hook sees.
Exit 1 on any difference. Needs torch (Debian: python3-torch).
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import torch

from pytorch_hooks import count_problems, report, run_hooked


def check(netshape, spec, folder):
    table = json.loads(subprocess.run([netshape, "table", spec, "--format", "json"],
                                      capture_output=True, text=True).stdout)
    done = subprocess.run([netshape, "export", spec, "--to", "pytorch"], capture_output=True, text=True)
    if done.returncode != 0:
        return [f"export failed ({done.returncode}): {done.stderr.strip()}"]
    path = os.path.join(folder, os.path.basename(spec).replace(".json", "").replace("-", "_") + ".py")
    with open(path, "w") as f:
        f.write(done.stdout)
    module_spec = importlib.util.spec_from_file_location("exported", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    # The network's class: the one __main__ builds.
    net = done.stdout.split("model = ")[1].split("(")[0]
    model = getattr(module, net)().eval()
    outs, seen = run_hooked(model, table["input_shape"], table.get("input_dtype"))
    problems = count_problems(model, outs, table)
    names = [n for n, _ in model.named_modules() if n]
    expected = table["modules"]
    if sorted(names) != sorted(expected):
        problems.append(f"names only in torch: {sorted(set(names) - set(expected))[:5]}, "
                        f"only in netshape: {sorted(set(expected) - set(names))[:5]}")
    for name, shape in expected.items():
        if name in seen and seen[name] != shape:
            problems.append(f"{name}: torch {seen[name]}, netshape {shape}")
        elif name in names and name not in seen:
            problems.append(f"{name}: its forward hook never ran")
    return problems


def main():
    netshape, specs = sys.argv[1], sys.argv[2:]
    torch.manual_seed(0)
    failed = 0
    with tempfile.TemporaryDirectory() as folder:
        for spec in specs:
            failed += report(spec, check(netshape, spec, folder))
    print(f"{len(specs) - failed} of {len(specs)} specs round-trip")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
