#!/usr/bin/env python3
"""Fuzzing `netshape export`: spec text must never become code.

    tests/fuzz/export_fuzz.py NETSHAPE [--seconds 30] [--seed N] [--count N]

Each round writes a small valid network whose every free text is hostile: the
spec's name and description, block names, block parameter names, layer and
branch names and the spec's file name, drawn from quotes and triple quotes,
backslashes and `\\N{...}`, control characters (NUL, ESC, CR), bidi
overrides, Python keywords and builtins, dunders and nn.Module's own
attributes, and random Unicode. netshape either exports it (exit 0) or says
why not (exit 1 or 2, a message, no output). Every file it writes must:

1. parse (`ast.parse`) and compile;
2. hold at the top level only imports, function and class definitions,
   docstrings and the `if __name__ == "__main__":` block, and in every class
   only methods and a docstring: a string that escaped its literal would be a
   statement of its own here;
3. import, with torch, in an empty folder, and leave that folder empty;
   build its network and run it on the spec's input, giving the table's
   output shape.

Exit 1 on the first failure, with the spec that caused it.
"""
import argparse
import ast
import importlib.util
import json
import os
import random
import string
import subprocess
import sys
import tempfile
import time

HOSTILE = [
    '"""', "'''", '"', "'", "\\", "\\N{BULLET}", "\\x00", "\x00", "\x1b[2J", "\r", "\n", "\t", "\u202e",
    "\u2066", "\u2028", "\x7f", "\x85", "None", "True", "false", "none", "self", "super", "nn", "torch",
    "__class__", "__init__", "__dict__", "_modules", "forward", "training", "x", "inp", "in_channels",
    "print", "sum", "OrderedDict", "Branches", "Merge", "merge", "lambda", "import os", "os.system('id')",
    "#", "'''\nimport os\n'''", '"""+__import__("os").system("touch pwned")+"""', "{}", "{0}", "%s",
    "after", "input", "0", "1x", "a-b", "a b", "é", "名字", "🙂", "$", "=", ".",
]
SIMPLE = ["a", "conv", "block", "stem", "head", "b1", "x_1"]


def text(rng, printable_only=False):
    """A string made of hostile pieces and random characters."""
    parts = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.6:
            parts.append(rng.choice(HOSTILE))
        elif r < 0.8:
            parts.append(rng.choice(SIMPLE))
        else:
            parts.append("".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0x80, 0x2FFF)]))
                                 for _ in range(rng.randint(1, 6))))
    s = "".join(parts)
    if printable_only:
        s = "".join(c for c in s if c.isprintable()) or "n"
    return s


def name(rng):
    """A layer, branch or block name: hostile; mostly without what the parser refuses outright
    (dots, `=`, control characters), so that most specs reach export."""
    n = text(rng, printable_only=rng.random() < 0.85).replace(".", "") if rng.random() < 0.8 \
        else rng.choice(SIMPLE + HOSTILE)
    if rng.random() < 0.9:
        n = n.replace("=", "")
    return n or "n"


def spec(rng):
    block, param = name(rng), name(rng)
    layers = [
        {"name": name(rng), "type": "Conv2d", "out_channels": 4, "kernel_size": 1},
        {"name": name(rng), "type": block, param: 3} if rng.random() < 0.5 else {"name": name(rng), "type": "ReLU"},
        {"name": name(rng), "type": "Branches", "merge": "cat",
         "branches": [{"name": name(rng), "layers": [{"type": "ReLU"}]}, {"name": name(rng), "layers": []}]},
        {"name": name(rng), "type": "Conv2d", "out_channels": 2, "kernel_size": 1},
    ]
    return {
        "name": text(rng, printable_only=rng.random() < 0.8), "description": text(rng), "input": [1, 3, 8, 8],
        "blocks": {block: {"description": text(rng), "params": {param: 3},
                           "layer": {"type": "Sequential", "layers": [
                               {"name": name(rng), "type": "Conv2d", "out_channels": f"${param}",
                                "kernel_size": 1}, {"type": "ReLU"}]}}},
        "layers": layers,
    }


ALLOWED_TOP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)


def structure_error(tree):
    """Why the module's shape is not what export writes, or None."""
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring
        if isinstance(node, ALLOWED_TOP):
            if isinstance(node, ast.ClassDef):
                for j, item in enumerate(node.body):
                    doc = j == 0 and isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant)
                    if not doc and not isinstance(item, ast.FunctionDef):
                        return f"class {node.name} holds a {type(item).__name__} at line {item.lineno}"
            continue
        if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'":
            continue
        return f"a top-level {type(node).__name__} at line {node.lineno}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("netshape")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--count", type=int, default=0, help="stop after this many specs (0: the time limit only)")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    import torch  # noqa: F401  (here once, not per module)
    rng = random.Random(a.seed)
    exported = refused = 0
    deadline = time.time() + a.seconds
    with tempfile.TemporaryDirectory(prefix="netshape-export-fuzz-") as tmp:
        work, sandbox = os.path.join(tmp, "specs"), os.path.join(tmp, "run")
        os.makedirs(work)
        os.makedirs(sandbox)
        i = 0
        while time.time() < deadline and (not a.count or i < a.count):
            i += 1
            s = spec(rng)
            file_name = "".join(c for c in text(rng, printable_only=True) if c not in "/") or "spec"
            path = os.path.join(work, file_name[:60] + ".json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(s, f)
            r = subprocess.run([a.netshape, "export", path, "--to", "pytorch"], capture_output=True)
            os.unlink(path)
            failure = None
            if r.returncode != 0:
                refused += 1
                if r.stdout or not r.stderr or r.returncode not in (1, 2):
                    failure = f"exit {r.returncode} with {len(r.stdout)} bytes of output and {len(r.stderr)} of message"
            else:
                exported += 1
                failure = check(r.stdout, sandbox, i)
            if failure:
                print(f"FAIL (seed {a.seed}, spec {i}): {failure}\nfile name: {file_name!r}\nspec: {json.dumps(s)}")
                sys.exit(1)
    print(f"export fuzz: {exported + refused} specs (seed {a.seed}), {exported} exported and checked, "
          f"{refused} refused with a reason")


def check(code_bytes, sandbox, i):
    try:
        code = code_bytes.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"the file is not UTF-8: {e}"
    try:
        tree = ast.parse(code)
        compile(tree, "<export>", "exec")
    except SyntaxError as e:
        return f"the file does not parse: {e}"
    if (why := structure_error(tree)):
        return why
    module_path = os.path.join(sandbox, f"exported_{i}.py")
    with open(module_path, "w", encoding="utf-8") as f:
        f.write(code)
    before = set(os.listdir(sandbox))
    cwd = os.getcwd()
    os.chdir(sandbox)
    try:
        spec = importlib.util.spec_from_file_location(f"exported_{i}", module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        import torch
        net = [v for k, v in vars(module).items() if isinstance(v, type) and issubclass(v, torch.nn.Module)
               and v.__module__ == module.__name__][-1]  # the network's class is the last one written
        with torch.no_grad():
            out = net().eval()(torch.zeros(1, 3, 8, 8))
        if list(out.shape) != [1, 2, 8, 8]:
            return f"the exported network gives {list(out.shape)}, the table [1, 2, 8, 8]"
    except Exception as e:  # noqa: BLE001 — any failure of the exported file is the finding
        return f"importing or running the file raised {type(e).__name__}: {e}"
    finally:
        os.chdir(cwd)
    os.unlink(module_path)
    created = set(os.listdir(sandbox)) - before - {"__pycache__"}
    if created:
        return f"importing the file created {sorted(created)}"
    return None


if __name__ == "__main__":
    main()
