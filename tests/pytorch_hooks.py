"""What the export and import round trips share: a model run in PyTorch with a
forward hook on every named module, and its counts compared with netshape's
table (tests/export_test.py, tests/import_test.py)."""
import torch


def run_hooked(model, shape, dtype=None):
    """Runs `model` (eval, no grad) on zeros of `shape` (int64 token indices where netshape's table says
    "input_dtype": "int64"); returns (outputs, {name: output shape}) where each named module's shape is
    that of its first call."""
    seen = {}

    def hook(name):
        def record(module, inputs, output):  # returns None: the output stays as it is
            if isinstance(output, torch.Tensor):  # not a backbone's dict of features
                seen.setdefault(name, list(output.shape))
        return record
    for name, m in model.named_modules():
        if name:
            m.register_forward_hook(hook(name))
    with torch.no_grad():
        out = model(torch.zeros(shape, dtype=torch.int64 if dtype == "int64" else torch.float32))
    # a segmentation model returns {"out": ...} (and "aux" when asked for)
    return (list(out.values()) if isinstance(out, dict) else list(out) if isinstance(out, tuple) else [out]), seen


def count_problems(model, outs, table):
    """Parameters, buffers and output shapes that differ from netshape's table."""
    problems = []
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    if params != table["params"]:
        problems.append(f"params: torch {params:,}, netshape {table['params']:,}")
    if buffers != table["buffers"]:
        problems.append(f"buffers: torch {buffers:,}, netshape {table['buffers']:,}")
    if [list(o.shape) for o in outs] != table["output_shapes"]:
        problems.append(f"output: torch {[list(o.shape) for o in outs]}, netshape {table['output_shapes']}")
    return problems


def report(name, problems):
    print(f"{'ok  ' if not problems else 'FAIL'} {name}")
    for p in problems[:10]:
        print(f"     {p}")
    return bool(problems)
