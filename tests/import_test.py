#!/usr/bin/env python3
"""Import round trip: torchvision models (constructed without weights) through
`netshape import`; the imported spec's table must equal what PyTorch reports
for the real model — the parameter and buffer counts, the output shape, and
the output shape of every named module, compared by name (the spec's names
are named_modules()' names).

    tests/import_test.py build/netshape

The expected numbers are PyTorch's: the model is run (eval mode, zeros of the
input shape) with a forward hook on every named module. A module PyTorch runs
that the spec lacks by name fails the test (a shared module called twice is
compared at its first call, as netshape names the second `NAME_1`). Exit 1 on
any difference. Needs torch and torchvision (Debian: python3-torchvision).
"""
import importlib
import json
import os
import subprocess
import sys

import torchvision

from pytorch_hooks import count_problems, report, run_hooked

MODELS = [  # name, constructor arguments, input
    ("resnet18", [], [1, 3, 224, 224]),
    ("resnet50", [], [2, 3, 224, 224]),
    ("vgg16_bn", [], [1, 3, 224, 224]),
    # aux_logits: the auxiliary heads run only in training; without them the
    # model's parameters are the ones its eval forward uses.
    ("googlenet", ["aux_logits=False", "init_weights=False"], [1, 3, 224, 224]),
    ("densenet121", [], [1, 3, 224, 224]),
    ("mobilenet_v2", [], [1, 3, 224, 224]),
    ("mobilenet_v3_small", [], [1, 3, 224, 224]),
    ("efficientnet_b0", [], [1, 3, 224, 224]),
    ("squeezenet1_0", [], [1, 3, 224, 224]),
    ("shufflenet_v2_x1_0", [], [1, 3, 224, 224]),
    # ConvNeXt: channels-last LayerNorm between permutes, a learned layer scale times the block
    # (a Parameter and a broadcasting Mul), StochasticDepth (the identity in eval).
    ("convnext_tiny", [], [1, 3, 224, 224]),
    ("convnext_small", [], [1, 3, 160, 160]),
]

# Segmentation: every head returns to the input size with F.interpolate(x, size=input.shape[-2:]);
# the input is not a multiple of the output stride, so only size_from gives it back exactly.
# weights_backbone=None: no download; the aux heads are off by default (they run only in training).
SEGMENTATION = [
    ("fcn_resnet50", ["weights_backbone=None"], [1, 3, 200, 232]),
    ("deeplabv3_resnet50", ["weights_backbone=None"], [1, 3, 200, 232]),
    ("lraspp_mobilenet_v3_large", ["weights_backbone=None"], [1, 3, 200, 232]),
]


# Video models, whose convs are torchvision's subclasses of nn.Conv3d (Conv3DSimple, …: read as the
# layer they extend). (The quantizable ShuffleNetV2, which calls shufflenetv2.channel_shuffle as a
# module attribute, imports too, but 3 of its 209 modules do not match by name: QuantStub and
# DeQuantStub are traced through, and a FloatFunctional's container is renamed: docs/import-export.md.)
OTHERS = [
    ("torchvision.models.video", "r3d_18", [1, 3, 8, 56, 56]),
    ("torchvision.models.video", "mc3_18", [1, 3, 8, 56, 56]),
    ("torchvision.models.video", "r2plus1d_18", [1, 3, 8, 56, 56]),
]


# Models written as tutorials write them (tests/import/tutorial.py): x.view(-1, 16 * 5 * 5),
# permute / transpose / flatten(2) around a channels-last LayerNorm, an SE block's view(b, c, 1, 1),
# the CIFAR ResNet's option-A shortcut (F.pad of x[:, :, ::2, ::2]) and F.avg_pool2d(out, out.size()[3]),
# T, H, W = x.shape[2:], F.interpolate(y, size=skip.shape[2:]),
# the U-Net's F.pad(x1, [diffX // 2, diffX - diffX // 2, …]) to its skip's size, x + context (broadcast).
TUTORIAL = [("LeNet", [4, 3, 32, 32]), ("PatchTokens", [2, 3, 64, 64]), ("TokenHead", [2, 3, 32, 32]),
            ("TextCNN", [2, 20]), ("Scores", [2, 7, 16]), ("SEBlock", [2, 3, 16, 16]),
            ("OptionABlock", [2, 16, 32, 32]), ("CifarResNet", [2, 3, 32, 32]),
            ("VideoFrames", [2, 3, 4, 6, 6]), ("SkipSegmenter", [2, 3, 37, 45]),
            ("UNetUp", [2, 3, 37, 45]), ("ContextAdd", [2, 3, 9, 7])]


def check(netshape, name, args, shape, target=None, build=None):
    target = target or f"torchvision.models:{name}"
    cmd = [netshape, "import", target, "--input", ",".join(map(str, shape))]
    for a in args:
        cmd += ["--arg", a]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return [f"import failed ({done.returncode}): {done.stderr.strip()}"]
    table = json.loads(subprocess.run([netshape, "table", "-", "--format", "json"], input=done.stdout,
                                      capture_output=True, text=True).stdout)
    if not table["valid"]:
        return [f"the imported spec is invalid: {table['diagnostics'][:1]}"]
    kwargs = {k: eval(v) for k, v in (a.split("=", 1) for a in args)}
    model = (build or getattr(torchvision.models, name))(**kwargs).eval()
    outs, seen = run_hooked(model, shape, table.get("input_dtype"))
    problems = count_problems(model, outs, table)
    params = sum(p.numel() for p in model.parameters())
    modules = table["modules"]
    compared = 0
    for module_name, got in seen.items():
        if module_name not in modules:
            leaf = not any(True for _ in dict(model.named_modules())[module_name].children())
            if leaf:
                problems.append(f"{module_name}: PyTorch runs it, the spec has no module by that name")
            continue
        compared += 1
        if modules[module_name] != got:
            problems.append(f"{module_name}: torch {got}, netshape {modules[module_name]}")
    print(f"     {compared} modules compared by name ({len(seen)} ran in PyTorch); "
          f"{params:,} parameters")
    return problems


def main():
    netshape = sys.argv[1]
    only = sys.argv[2:]
    failed = 0
    for name, args, shape in MODELS:
        if only and name not in only:
            continue
        failed += report(name, check(netshape, name, args, shape))
    for name, args, shape in SEGMENTATION:
        if only and name not in only:
            continue
        failed += report(name, check(netshape, name, args, shape, f"torchvision.models.segmentation:{name}",
                                     getattr(torchvision.models.segmentation, name)))
    for where, name, shape in OTHERS:
        if only and name not in only:
            continue
        module = importlib.import_module(where)
        failed += report(f"{where}.{name}", check(netshape, name, [], shape, f"{where}:{name}", getattr(module, name)))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "import"))
    tutorial = importlib.import_module("tutorial")
    for name, shape in TUTORIAL:
        if only and name not in only:
            continue
        target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "import", "tutorial.py") + ":" + name
        failed += report(name, check(netshape, name, [], shape, target, getattr(tutorial, name)))
    print(f"{'all' if not failed else failed} {'imported models agree' if not failed else 'failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
