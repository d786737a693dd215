#!/usr/bin/env python3
"""netshape benchmarks. A benchmark, not a test: it prints figures, it never fails on them.

  /usr/bin/python3 bench/bench.py [--build build] [--runs 30] [--threads 2] [--skip-torch]

1. Whole-process time and peak memory of the symbolic commands (`table`, `check`)
   on specs/resnet34.json, against `netshape run` (which loads LibTorch).
2. Scaling: `check` on generated specs of 1,000 / 10,000 / 100,000 layers;
   every command (`table --format json`, `explain`, `diff`, `graph`, `export`)
   on flat specs of 1,000 / 10,000 / 40,000 ReLUs, on specs of as many branches
   (Branches merged by add) and of as many uses of one residual block (export
   compares every use to find the class's arguments). With --baseline OTHER_BUILD the same runs of an
   older build follow each figure, interleaved.
3. The forward pass of ResNet34 at 1x3x224x224: netshape-torch with shape
   recording, the same module tree without it, and PyTorch in Python (the seed's
   ResNet34 written as the seed writes it, and torchvision's resnet34), same
   thread count, one after another in this one run.

Medians throughout; the machine is shared and noisy, so compare figures from
the same run only.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_process(cmd):
    """Runs cmd; returns (seconds, peak RSS in MiB, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t0
    return dt, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def median_process(cmd, runs):
    times, rss = [], []
    for _ in range(runs):
        dt, mem, code = run_process(cmd)
        if code not in (0, 1):
            sys.exit(f"{' '.join(cmd)} exited {code}")
        times.append(dt)
        rss.append(mem)
    return statistics.median(times), statistics.median(rss)


def generated_spec(n_layers):
    """A flat spec of n layers cycling Conv2d 1x1 / BatchNorm2d / ReLU on a small input."""
    kinds = [
        {"type": "Conv2d", "out_channels": 8, "kernel_size": 1},
        {"type": "BatchNorm2d"},
        {"type": "ReLU"},
    ]
    layers = [kinds[i % 3] for i in range(n_layers)]
    return {"name": f"generated-{n_layers}", "input": [1, 8, 16, 16], "layers": layers}


def seed_resnet34():
    """The seed article's ResNet34, as its code writes it (the book's chapter 4)."""
    import torch.nn as nn
    import torch.nn.functional as F

    class ResidualBlock(nn.Module):
        def __init__(self, inchannel, outchannel, stride=1, shortcut=None):
            super().__init__()
            self.left = nn.Sequential(
                nn.Conv2d(inchannel, outchannel, 3, stride, 1, bias=False),
                nn.BatchNorm2d(outchannel),
                nn.ReLU(inplace=True),
                nn.Conv2d(outchannel, outchannel, 3, 1, 1, bias=False),
                nn.BatchNorm2d(outchannel))
            self.right = shortcut

        def forward(self, x):
            out = self.left(x)
            residual = x if self.right is None else self.right(x)
            out += residual
            return F.relu(out)

    class ResNet(nn.Module):
        def __init__(self, num_classes=1000):
            super().__init__()
            self.pre = nn.Sequential(
                nn.Conv2d(3, 64, 7, 2, 3, bias=False),
                nn.BatchNorm2d(64),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, 1))
            self.layer1 = self._make_layer(64, 64, 3)
            self.layer2 = self._make_layer(64, 128, 4, stride=2)
            self.layer3 = self._make_layer(128, 256, 6, stride=2)
            self.layer4 = self._make_layer(256, 512, 3, stride=2)
            self.fc = nn.Linear(512, num_classes)

        def _make_layer(self, inchannel, outchannel, block_num, stride=1):
            shortcut = nn.Sequential(
                nn.Conv2d(inchannel, outchannel, 1, stride, bias=False),
                nn.BatchNorm2d(outchannel))
            layers = [ResidualBlock(inchannel, outchannel, stride, shortcut)]
            for _ in range(1, block_num):
                layers.append(ResidualBlock(outchannel, outchannel))
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.pre(x)
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            x = F.avg_pool2d(x, 7)
            x = x.view(x.size(0), -1)
            return self.fc(x)

    return ResNet()


def python_forward_ms(model, runs, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        model(x)  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def scaling_every_command(ns, baseline):
    """Each command on flat and branching specs; whole-process medians of 3."""
    print("\n## Scaling: every command, flat and branching specs (median of 3)\n")
    cols = ["check", "table --format json", "explain", "diff --set input=1,3,9,9", "graph", "sizes",
            "export --to pytorch"]
    print("| spec | " + " | ".join(f"`{c}`" for c in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    flat = lambda n: {"input": [1, 3, 8, 8], "layers": [{"type": "ReLU"}] * n}
    branch = {"type": "Branches", "merge": "add", "branches": [[], [{"type": "ReLU"}]]}
    branching = lambda n: {"input": [1, 3, 8, 8], "layers": [branch] * n}
    block = {"Block": {"params": {"c": 3, "k": 1}, "layer": {"type": "Residual", "body": [
        {"type": "Conv2d", "out_channels": "$c", "kernel_size": "$k", "padding": "$k // 2"}, {"type": "ReLU"}]}}}
    blocks = lambda n: {"input": [1, 3, 8, 8], "blocks": block,
                        "layers": [{"type": "Block", "k": 1 + 2 * (i % 2)} for i in range(n)]}
    # A named input (closed forms in every row) at the layer limit: each
    # command must stay linear there too (issue 20: it was quadratic).
    named = lambda spec: {**spec, "input": ["N", 3, "H", "W"]}
    with tempfile.TemporaryDirectory() as tmp:
        for label, make, sizes in (("ReLUs", flat, (1000, 10000, 40000)),
                                   ("branches", branching, (1000, 10000)),
                                   ("block uses", blocks, (1000, 10000)),
                                   ("ReLUs, input N,3,H,W", lambda n: named(flat(n)), (10000, 99999)),
                                   ("branches, input N,3,H,W", lambda n: named(branching(n)), (33333,))):
            for n in sizes:
                path = os.path.join(tmp, f"{label}{n}.json")
                with open(path, "w") as f:
                    json.dump(make(n), f)
                cells = []
                for c in cols:
                    t, _ = median_process([ns] + c.split()[:1] + [path] + c.split()[1:], 3)
                    cell = f"{t * 1000:.0f} ms"
                    if baseline and label == "ReLUs":
                        b, _ = median_process([baseline] + c.split()[:1] + [path] + c.split()[1:], 3)
                        cell += f" (was {b * 1000:.0f})"
                    cells.append(cell)
                print(f"| {n:,} {label} | " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--baseline", help="another build folder to compare the scaling figures with")
    args = ap.parse_args()
    ns = os.path.join(ROOT, args.build, "netshape")

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}\n")
    print("## Symbolic commands, whole process (median of %d)\n" % args.runs)
    print("| command | time | peak RSS |\n|---|---|---|")
    for cmd in (["table", "specs/resnet34.json"], ["check", "specs/resnet34.json"],
                ["table", "specs/resnet50.json"]):
        t, m = median_process([ns] + cmd, args.runs)
        print(f"| `netshape {' '.join(cmd)}` | {t * 1000:.1f} ms | {m:.1f} MiB |")
    if not args.skip_torch:
        t, m = median_process([ns, "run", "specs/lenet5.json"], max(3, args.runs // 10))
        print(f"| `netshape run specs/lenet5.json` (loads LibTorch) | {t * 1000:.1f} ms | {m:.1f} MiB |")

    print("\n## Scaling: `netshape check` on generated specs\n")
    print("| layers | time (median of 5) | per layer |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1000, 10000, 100000):
            path = os.path.join(tmp, f"gen{n}.json")
            with open(path, "w") as f:
                json.dump(generated_spec(n), f)
            t, _ = median_process([ns, "check", path], 5)
            print(f"| {n:,} | {t * 1000:.1f} ms | {t / n * 1e6:.2f} µs |")

    scaling_every_command(ns, os.path.join(ROOT, args.baseline, "netshape") if args.baseline else None)

    print("\n## `netshape sizes` against brute force (ResNet50, one spatial dim, sizes 1 to 1,024)\n")
    t_sizes, _ = median_process([ns, "sizes", "specs/resnet50.json"], args.runs)
    t0 = time.perf_counter()
    for x in range(1, 1025):
        run_process([ns, "check", "specs/resnet50.json", "--input", f"1,3,{x},224"])
    t_brute = time.perf_counter() - t0
    print("| how | time |\n|---|---|")
    print(f"| `netshape sizes specs/resnet50.json` (both dims, symbolic; median of {args.runs}) | {t_sizes * 1000:.1f} ms |")
    print(f"| 1,024 runs of `netshape check --input 1,3,x,224` (one dim, brute force) | {t_brute * 1000:.0f} ms |")
    print(f"\nratio: {t_brute / t_sizes:.0f}x")

    if args.skip_torch:
        return
    print(f"\n## ResNet34 forward pass, 1x3x224x224, {args.threads} threads "
          f"(median of 3 rounds of {args.runs} runs each)\n")
    # Three rounds, each measuring all four one after another; the figure is
    # the median over rounds of each round's median, so that a noisy moment
    # on this shared machine hits every contender alike.
    import torchvision
    seed_model, tv_model = seed_resnet34(), torchvision.models.resnet34()
    rounds = {"ours": [], "plain": [], "seed": [], "tv": []}
    for _ in range(3):
        out = subprocess.run([ns, "run", "specs/resnet34.json", "--format", "json", "--bench",
                              str(args.runs), "--bench-plain", "--threads", str(args.threads)],
                             cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"netshape run failed: {out.stderr}")
        j = json.loads(out.stdout)
        rounds["ours"].append(j["forward_ms"]["median"])
        rounds["plain"].append(j["plain_forward_ms"]["median"])
        rounds["seed"].append(python_forward_ms(seed_model, args.runs, args.threads))
        rounds["tv"].append(python_forward_ms(tv_model, args.runs, args.threads))
    ours, plain, seed_py, tv_py = (statistics.median(rounds[k]) for k in ("ours", "plain", "seed", "tv"))
    print("| what | median | vs netshape run |\n|---|---|---|")
    print(f"| netshape run (LibTorch, shapes recorded) | {ours:.2f} ms | 1.00 |")
    print(f"| the same modules, recording off | {plain:.2f} ms | {plain / ours:.3f} |")
    print(f"| PyTorch (Python), the seed's ResNet34 | {seed_py:.2f} ms | {seed_py / ours:.3f} |")
    print(f"| PyTorch (Python), torchvision resnet34 | {tv_py:.2f} ms | {tv_py / ours:.3f} |")
    print(f"\nrecording overhead: {(ours / plain - 1) * 100:+.1f}% (target: under 5%)")


if __name__ == "__main__":
    main()
