#!/usr/bin/env python3
"""netshape import: a torch.nn.Module -> a netshape spec, without running it.

    netshape import model.py:Net --input 1,3,224,224 --arg num_classes=10
    netshape import torchvision.models:resnet18

`netshape import` runs this script with python3; it needs only PyTorch. The
module is traced with torch.fx's symbolic tracer, which follows forward()
with proxies instead of tensors: no shape is ever computed, so a model whose
shapes are broken still traces, and netshape then says where and why.

Every call of a torch.nn layer becomes that layer with the module's own
arguments, named as named_modules() names it (`self.layer2[0].conv1` is
`layer2.0.conv1`), inside Sequential containers that follow the module
tree; torch.add/cat/mul and `+`/`*` become Add/Cat/Mul with `from`; the
common functionals (F.relu, F.max_pool2d, torch.flatten, x.view(x.size(0),
-1), F.interpolate, ...) become the matching layer. Anything else is
reported with the module and the source line, exit 1: nothing is dropped.
Exit 2: the file, the name or an argument could not be loaded.
"""
import argparse
import ast
import difflib
import dis
import importlib
import importlib.util
import inspect
import json
import operator
import os
import sys
import traceback

EXIT_INVALID, EXIT_USAGE = 1, 2


class ImportFailure(Exception):
    def __init__(self, code, message, where=None, source=None, help=None, exit_code=EXIT_INVALID):
        super().__init__(message)
        self.code, self.message, self.where, self.source, self.help = code, message, where, source, help
        self.exit_code = exit_code


def report(f):
    out = f"error[{f.code}]: {f.message}\n"
    if f.where:
        out += f"  --> {f.where}\n"
    if f.source:
        out += f"   |     {f.source.strip()}\n"
    if f.help:
        out += f"   = help: {f.help}\n"
    sys.stderr.write(out)
    return f.exit_code


# ---- loading the user's module ------------------------------------------------

def _refuse_own_file(origin, output):
    """-o must not be the model's own source: checked by inode before the module runs."""
    if output and origin and os.path.exists(output) and os.path.exists(origin) and os.path.samefile(origin, output):
        raise ImportFailure("usage", f"-o `{output}` is the model's own source file (`{_shown(origin)}`); "
                                     "writing the spec there would destroy it",
                            help="give another file, e.g. -o net.json", exit_code=EXIT_USAGE)


def _module_spec(where, output):
    """The import spec of FILE.py or module.path, found without running the module itself."""
    looks_like_file = where.endswith(".py") or os.path.sep in where or os.path.exists(where)
    if looks_like_file:
        if not os.path.isfile(where):
            raise ImportFailure("io", f"no file `{where}`", exit_code=EXIT_USAGE)
        if not where.endswith(".py"):
            raise ImportFailure("usage", f"`{where}` is not a Python file (FILE.py): netshape import runs the "
                                         "Python source that defines the model",
                                help=f"rename it to end in .py, or give a module path (package.module:NAME)",
                                exit_code=EXIT_USAGE)
        sys.path.insert(0, os.path.dirname(os.path.abspath(where)))
        spec = importlib.util.spec_from_file_location(os.path.basename(where)[:-3] or "model", where)
    else:
        # `name:Class` finds name.py in the current folder, as `python3 -c "import name"` would.
        sys.path.insert(0, os.getcwd())
        spec = importlib.util.find_spec(where)
        if spec is None:
            raise ImportFailure("usage", f"no module `{where}` (looked in the current folder and Python's path)",
                                help="give a file (model.py:Net) or an importable module path "
                                     "(torchvision.models:resnet18)", exit_code=EXIT_USAGE)
    _refuse_own_file(spec.origin, output)
    return spec


def load_target(target, arg_texts, output=None):
    if ":" not in target:
        raise ImportFailure("usage", f"`{target}` is not FILE.py:NAME or module.path:NAME",
                            help="e.g. netshape import model.py:Net, or torchvision.models:resnet18",
                            exit_code=EXIT_USAGE)
    where, name = target.rsplit(":", 1)
    try:
        spec = _module_spec(where, output)
        if spec.name == where:  # a module path: imported as Python imports it (sys.modules, its package)
            module = importlib.import_module(where)
        else:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    except ImportFailure:
        raise
    except SystemExit as e:  # sys.exit() while loading: nothing to import
        raise ImportFailure("load", f"loading `{where}` ended the process: sys.exit({e.code!r})",
                            where=_user_frame(e.__traceback__),
                            help="put the module's script part under `if __name__ == \"__main__\":`",
                            exit_code=EXIT_USAGE)
    except Exception as e:  # the user's file raised while loading
        raise ImportFailure("load", f"loading `{where}` raised {type(e).__name__}: {e}",
                            where=_user_frame(e.__traceback__), exit_code=EXIT_USAGE)
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(module) if not n.startswith("_")]
            raise ImportFailure("usage", f"`{where}` has no `{name}`",
                                help="it has: " + ", ".join(names[:20]), exit_code=EXIT_USAGE)
        obj = getattr(obj, part)
    kwargs = {}
    for text in arg_texts:
        if "=" not in text:
            raise ImportFailure("usage", f"--arg `{text}` is not KEY=VALUE", exit_code=EXIT_USAGE)
        key, value = text.split("=", 1)
        try:
            kwargs[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            kwargs[key] = value  # a bare word is a string
    import torch.nn as nn
    if isinstance(obj, nn.Module):
        return obj, name
    try:
        model = obj(**kwargs)
    except Exception as e:
        raise ImportFailure("load", f"`{name}({_kwargs_text(kwargs)})` raised {type(e).__name__}: {e}",
                            where=_user_frame(e.__traceback__), exit_code=EXIT_USAGE)
    if not isinstance(model, nn.Module):
        raise ImportFailure("usage", f"`{name}` gave a {type(model).__name__}, not a torch.nn.Module",
                            exit_code=EXIT_USAGE)
    return model, name


def submodule(model, path):
    """`--module backbone`: that submodule (a detection model's, whose forward() takes a list of images)."""
    try:
        return model.get_submodule(path)
    except AttributeError:
        top = [n for n, _ in model.named_children()]
        near = difflib.get_close_matches(path, [n for n, _ in model.named_modules() if n], n=1)
        raise ImportFailure("usage", f"the model has no submodule `{path}`",
                            help=(f"did you mean `{near[0]}`? " if near else "") + "its children: " + ", ".join(top[:20]),
                            exit_code=EXIT_USAGE)


def _kwargs_text(kwargs):
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _is_library(path):
    return any(p in path for p in (os.sep + "torch" + os.sep, "torchvision" + os.sep, os.sep + "fx" + os.sep)) \
        or path.endswith("netshape_import.py")


def _shown(path):
    """A path as the user would write it: relative to the current folder when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _user_frame(tb):
    """file:line of the innermost frame outside PyTorch, or None."""
    where = None
    for frame in traceback.extract_tb(tb):
        if not _is_library(frame.filename):
            where = (f"{_shown(frame.filename)}:{frame.lineno}", frame.line)
    return where[0] if where else None


def _source_of(node):
    """(file:line, source) of the code that made an fx node: the innermost frame outside PyTorch."""
    trace = getattr(node, "stack_trace", None) or ""
    lines = trace.splitlines()
    for i, line in enumerate(lines):
        line = line.strip()
        if line.startswith("File "):
            path = line.split('"')[1]
            if _is_library(path) and "torchvision" not in path:
                continue
            lineno = line.split("line ")[1].split(",")[0]
            code = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return f"{_shown(path)}:{lineno}", code
    return None, None


# ---- tracing ------------------------------------------------------------------

def trace(model):
    import torch.fx

    F = torch.nn.functional
    # Functions recorded as one call while tracing: F.avg_pool2d and F.pad are builtins whose
    # argument parsers refuse a proxy for a size before __torch_function__ sees one
    # (F.avg_pool2d(out, out.size()[3]), the CIFAR ResNet's global pool; a U-Net's
    # F.pad(x1, [diffX // 2, …])); torchvision's ShuffleNetV2 shuffles channels in a function,
    # called by name or, in the quantized models, as shufflenetv2.channel_shuffle: one call,
    # as nn.ChannelShuffle.
    recorded = [(F, name) for name in ("avg_pool1d", "avg_pool2d", "avg_pool3d", "pad")]
    try:
        import torchvision.models.shufflenetv2 as sv2
        recorded.append((sv2, "channel_shuffle"))
    except Exception:
        pass

    class Tracer(torch.fx.Tracer):
        """Records, on every node, the dotted name of the module whose forward() made it."""

        def __init__(self):
            super().__init__()
            self.record_stack_traces = True
            self.paths = [""]
            self.called = set()  # every module forward() calls, leaf or not

        def is_leaf_module(self, m, qualname):
            # An empty nn.Sequential is the identity (the CIFAR ResNet's shortcut where nothing changes):
            # a layer of its own, so that its name is in the spec as PyTorch's hooks see it. A subclass
            # of a torch.nn layer that keeps its forward() (torchvision's Conv3DSimple) is that layer.
            return super().is_leaf_module(m, qualname) or (isinstance(m, torch.nn.Sequential) and len(m) == 0) \
                or torch_base(m) is not None

        def call_module(self, m, forward, args, kwargs):
            self.paths.append(self.path_of_module(m))
            self.called.add(self.paths[-1])
            try:
                return super().call_module(m, forward, args, kwargs)
            except Exception:
                self.failed = getattr(self, "failed", None) or self.paths[-1]  # the innermost
                raise
            finally:
                self.paths.pop()

        def iter(self, obj):
            # `a, b = x.chunk(2, dim=1)`: fx unpacks a proxy when the caller's next
            # instruction is UNPACK_SEQUENCE; PyTorch 1.13 finds it by Python 3.10's
            # offsets, so on 3.11 it is found here by the instruction's own offset.
            frame = inspect.currentframe().f_back.f_back
            for inst in dis.get_instructions(frame.f_code):
                if inst.offset == frame.f_lasti and inst.opname == "UNPACK_SEQUENCE":
                    return (obj[i] for i in range(inst.argval))
            return super().iter(obj)

        def create_node(self, *args, **kwargs):
            node = super().create_node(*args, **kwargs)
            node.meta["netshape_path"] = self.paths[-1]
            return node

    tracer = Tracer()

    def traced(a):
        return isinstance(a, torch.fx.Proxy) or isinstance(a, (list, tuple)) and any(map(traced, a))

    def recorder(fn):
        def call(*args, **kwargs):
            if any(traced(a) for a in args + tuple(kwargs.values())):
                return tracer.create_proxy("call_function", fn, args, kwargs)
            return fn(*args, **kwargs)
        return call

    originals = [(owner, name, getattr(owner, name)) for owner, name in recorded]
    for owner, name, fn in originals:
        setattr(owner, name, recorder(fn))
    try:
        graph = tracer.trace(model)
    except Exception as e:
        path = getattr(tracer, "failed", None) or "the model's forward()"
        frame = None
        for f in traceback.extract_tb(e.__traceback__):
            if not _is_library(f.filename) or "torchvision" in f.filename:
                frame = f
        raise ImportFailure(
            "control-flow", f"torch.fx cannot trace `{path}`: {type(e).__name__}: {str(e).splitlines()[0]}",
            where=f"{_shown(frame.filename)}:{frame.lineno}" if frame else None, source=frame.line if frame else None,
            help="symbolic tracing cannot follow code that depends on tensor values or sizes (an `if` on a "
                 "tensor, a loop over one, an `int()` of a size); write that module so that its "
                 "shape logic is in torch.nn layers, or netshape the parts around it")
    finally:
        for owner, name, fn in originals:
            setattr(owner, name, fn)
    return graph, tracer.called


def unused_modules(model, called):
    """The top-most modules whose parameters and buffers no call in forward() reaches (eval mode:
    GoogLeNet's and Inception's auxiliary heads run only in training), with their counts."""
    reached = set()
    for path in called:
        m = model.get_submodule(path)
        reached.update(id(t) for t in m.parameters())
        reached.update(id(t) for t in m.buffers())
    out, shown = [], []
    for name, m in model.named_modules():
        if not name or any(name.startswith(p + ".") for p in shown):
            continue
        own = list(m.parameters()) + list(m.buffers())
        if own and not any(id(t) in reached for t in own):
            shown.append(name)
            params = sum(t.numel() for t in m.parameters() if id(t) not in reached)
            out.append((name, type(m).__name__, params))
    return out


def warn_unused(left_out, model, target):
    """A warning on standard error, and the sentence the spec's description keeps."""
    total = sum(t.numel() for t in {id(t): t for t in model.parameters()}.values())
    missing = sum(p for _, _, p in left_out)
    names = [f"`{n}` ({kind}, {p:,} parameters)" for n, kind, p in left_out]
    listed = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
    out = (f"warning[unused-modules]: forward() never calls {listed} in eval mode: the spec has "
           f"{total - missing:,} parameters where the model's parameters() counts {total:,}\n"
           "   = note: a module that runs only in training (an auxiliary classifier) is not in an eval-mode "
           "trace, so the spec leaves it out\n")
    if getattr(model, "aux_logits", False):
        out += f"   = help: import with --arg aux_logits=False to build the model without them\n"
    sys.stderr.write(out)
    return (f"It leaves out {', '.join(n for n, _, _ in left_out)}, which forward() never calls in eval mode "
            f"({missing:,} of the model's {total:,} parameters).")


# ---- modules -> layers --------------------------------------------------------

def _l(v):
    return list(v) if isinstance(v, (tuple, list)) else v


PAIRS = ("kernel_size", "stride", "padding", "dilation", "output_padding")


def _pair(name, v):
    """(3, 3) -> 3 for the arguments PyTorch's _pair/_triple expand, as a person writes them."""
    v = _l(v)
    if name in PAIRS and isinstance(v, list) and v and all(x == v[0] for x in v):
        return v[0]
    return v


def _attrs(m, *names):
    return {n: _pair(n, getattr(m, n)) for n in names}


KINDS = None  # netshape's kind table, loaded on first use


def _kinds():
    """netshape's kind table (src/netshape_kinds.json, generated from src/kinds.cc; installed beside
    this script): every kind's arguments and PyTorch's defaults."""
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "netshape_kinds.json"), os.path.join(here, "..", "src", "netshape_kinds.json")):
        if os.path.exists(path):
            with open(path) as f:
                return {k["name"]: k for k in json.load(f)["kinds"]}
    raise ImportFailure("io", f"netshape_kinds.json is missing beside {__file__} (rebuild, or reinstall)",
                        exit_code=EXIT_USAGE)


def without_defaults(layer):
    """The arguments a person would write: those equal to PyTorch's default (the kind table's)
    left out — a pool's stride when it is its kernel_size. in_channels and the like stay: netshape
    checks them."""
    global KINDS
    KINDS = KINDS or _kinds()
    kind = KINDS.get(layer["type"])
    if kind is None:
        return layer
    defaults = {}
    for a in kind["args"]:
        if "default" in a:
            defaults[a["name"]] = a["default"]
        elif "default_is" in a:
            defaults[a["name"]] = layer.get(a["default_is"])
    return {k: v for k, v in layer.items() if k == "type" or k not in defaults or v != defaults[k]}


def module_layer(m):
    """The spec layer for a torch.nn leaf module, or None when netshape has no such kind."""
    layer = _module_layer(m)
    return without_defaults(layer) if layer else None


def torch_base(m):
    """The torch.nn layer class a module's class extends without a forward() of its own
    (torchvision's Conv3DSimple is an nn.Conv3d), or None."""
    cls = type(m)
    if cls.__module__.startswith("torch.nn"):
        return None
    for base in cls.__mro__[1:]:
        if base.__module__.startswith("torch.nn") and base.__name__ not in ("Module", "Sequential", "ModuleList",
                                                                          "ModuleDict"):
            return base if cls.forward is base.forward else None
    return None


def _module_layer(m):
    base = torch_base(m)
    kind = (base or type(m)).__name__
    if not (base or type(m)).__module__.startswith("torch.nn"):
        return None
    if kind == "Sequential" and len(m) == 0:  # nothing in it: the identity
        return {"type": "Identity"}
    global KINDS
    KINDS = KINDS or _kinds()
    if kind in KINDS and "attributes" in KINDS[kind]["traits"]:
        # The module keeps each argument as an attribute of that name (the kind table says which).
        # (size_from is netshape's own: a module has no such attribute)
        return {"type": kind, **_attrs(m, *(a["name"] for a in KINDS[kind]["args"] if a["name"] != "size_from"))}
    if kind in ("Conv1d", "Conv2d", "Conv3d"):
        if m.padding_mode != "zeros":
            return None
        return {"type": kind, **_attrs(m, "in_channels", "out_channels", "kernel_size", "stride", "padding",
                                       "dilation", "groups"), "bias": m.bias is not None}
    if kind in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"):
        return {"type": kind, **_attrs(m, "in_channels", "out_channels", "kernel_size", "stride", "padding",
                                       "output_padding", "dilation", "groups"), "bias": m.bias is not None}
    if kind.startswith("BatchNorm") or kind.startswith("InstanceNorm"):
        d = {"type": kind, **_attrs(m, "num_features", "eps", "affine", "track_running_stats")}
        if m.momentum is not None:
            d["momentum"] = m.momentum
        return d
    if kind == "LayerNorm":
        d = {"type": kind, **_attrs(m, "normalized_shape", "eps", "elementwise_affine")}
        if m.elementwise_affine and getattr(m, "bias", True) is None:
            d["bias"] = False  # PyTorch 2.1+
        return d
    if kind in ("MaxPool1d", "MaxPool2d", "MaxPool3d"):
        if m.return_indices:
            return None
        return {"type": kind, **_attrs(m, "kernel_size", "stride", "padding", "dilation", "ceil_mode")}
    if kind in ("AvgPool1d", "AvgPool2d", "AvgPool3d"):
        d = {"type": kind, **_attrs(m, "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")}
        if getattr(m, "divisor_override", None) is not None:
            d["divisor_override"] = m.divisor_override
        return d
    if kind.startswith("AdaptiveAvgPool") or kind.startswith("AdaptiveMaxPool"):
        if getattr(m, "return_indices", False):
            return None
        return {"type": kind, **_attrs(m, "output_size")}
    if kind == "Linear":
        return {"type": kind, **_attrs(m, "in_features", "out_features"), "bias": m.bias is not None}
    if kind in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"):
        d = {"type": kind}
        if m.size is not None:
            d["size"] = _l(m.size)
        if m.scale_factor is not None:
            d["scale_factor"] = _l(m.scale_factor)
        if kind == "Upsample":
            d["mode"] = m.mode
            if m.align_corners is not None:
                d["align_corners"] = m.align_corners
        return d
    if kind == "PReLU":
        return {"type": kind, "num_parameters": m.num_parameters, "init": float(m.weight.flatten()[0])}
    return None


# ---- functions and methods -> layers ----------------------------------------

def _bind(args, kwargs, names, defaults=None):
    """Positional and keyword arguments by name, as the function's signature would."""
    out = dict(defaults or {})
    out.update(zip(names, args))
    out.update(kwargs)
    return out


def _functional_table():
    import torch
    import torch.nn.functional as F
    pools = {}
    for r in (1, 2, 3):
        pools[getattr(F, f"max_pool{r}d")] = (f"MaxPool{r}d", ["input", "kernel_size", "stride", "padding",
                                                               "dilation", "ceil_mode", "return_indices"])
        pools[getattr(F, f"avg_pool{r}d")] = (f"AvgPool{r}d", ["input", "kernel_size", "stride", "padding",
                                                               "ceil_mode", "count_include_pad", "divisor_override"])
        pools[getattr(F, f"adaptive_avg_pool{r}d")] = (f"AdaptiveAvgPool{r}d", ["input", "output_size"])
        pools[getattr(F, f"adaptive_max_pool{r}d")] = (f"AdaptiveMaxPool{r}d", ["input", "output_size",
                                                                               "return_indices"])
    pointwise = {
        F.relu: "ReLU", torch.relu: "ReLU", F.relu6: "ReLU6", torch.sigmoid: "Sigmoid", F.sigmoid: "Sigmoid",
        torch.tanh: "Tanh", F.tanh: "Tanh", F.silu: "SiLU", F.gelu: "GELU", F.hardswish: "Hardswish",
        F.hardsigmoid: "Hardsigmoid", F.leaky_relu: "LeakyReLU", F.elu: "ELU", F.mish: "Mish",
        F.softplus: "Softplus", F.hardtanh: "Hardtanh", F.selu: "SELU", torch.selu: "SELU",
    }
    return pools, pointwise


class Converter:
    """fx graph -> spec layers, nested in Sequentials that follow the module tree."""

    def __init__(self, model, graph, called=()):
        import torch
        import torch.nn.functional as F
        self.torch, self.F = torch, F
        self.model, self.graph = model, graph
        self.modules = dict(model.named_modules())
        self.called = set(called)       # modules forward() calls (a ModuleList never is)
        self.first = {}                 # module path -> the spec name of its first call
        self.notes = []                 # said on standard error: names netshape had to change
        self.root = []
        self.stack = [([], self.root, [])]  # open containers: (spec names, their list, module path)
        self.used = set()               # every dotted name given out
        self.value = {}                 # fx node -> the spec name that holds its tensor ("input")
        self.other = {}                 # fx node -> a non-tensor value (sizes, chunk tuples)
        self.last = None                # the name of the layer written last
        self.outputs = []
        self.pools, self.pointwise = _functional_table()

    # -- writing layers --

    def inside(self, path):
        """Whether `path` (a module path) is the open container's or below it."""
        top = self.stack[-1][2]
        return len(top) <= len(path) and path[:len(top)] == top

    def place(self, path, local, layer, inputs, merge=False, functional=False):
        """Appends `layer` named path.local, in containers named as `path`; `from` when its input is
        not the layer written just before. A functional call (relu between a ModuleList's layers)
        stays in the open container when every container it would close is one forward() never
        calls: a ModuleList walked in a loop keeps one container, `layers.0`, `layers.1`, as
        named_modules() names them."""
        keep = functional and self.stack[-1][2][:len(path)] == path and \
            all(".".join(box[2]) not in self.called for box in self.stack if len(box[2]) > len(path))
        if not keep:
            while not self.inside(path):
                self.stack.pop()
        opened = None  # the outermost container this call opens
        while not keep and len(self.stack[-1][2]) < len(path):
            parent, items, module = self.stack[-1]
            part = path[len(module)]
            name = self.unique(parent, part)
            box = {"name": name.split(".")[-1], "type": "Sequential", "layers": []}
            items.append(box)
            opened = opened or box
            self.stack.append((parent + [name.split(".")[-1]], box["layers"], module + [part]))
        full = self.unique(self.stack[-1][0], local)
        layer = {"name": full.split(".")[-1], **layer}
        if merge:
            layer["from"] = inputs
        elif inputs[0] != (self.last or "input") and opened:
            # The first layer of a new container reads another value: the container does, as a
            # forward() calls self.downsample(x) (and export writes that call).
            opened["from"] = inputs[0]
            opened["layers"] = opened.pop("layers")
        elif inputs[0] != (self.last or "input"):
            layer["from"] = inputs[0]
        self.stack[-1][1].append(layer)
        self.last = full
        return full

    def unique(self, parent, local):
        base = ".".join(parent + [local])
        name, k = base, 1
        while name in self.used or name == "input":
            name = f"{base}_{k}"
            k += 1
        if base == "input":
            self.notes.append(f"the module `input` is written as `{name}`: a spec's top-level `input` is the "
                              "network's input")
        self.used.add(name)
        return name

    # -- reading the graph --

    def fail(self, node, what, help=None):
        where, source = _source_of(node)
        path = node.meta.get("netshape_path") or "the model's forward()"
        raise ImportFailure("unsupported", f"`{path}` {what}", where=where, source=source,
                            help=help or "netshape has no layer for it; see docs/import-export.md for what maps")

    def tensor(self, node, arg):
        Node = self.torch.fx.Node
        if isinstance(arg, Node) and arg in self.value:
            return self.value[arg]
        if self.is_learned(arg):
            return self.learned(node, arg)
        self.fail(node, f"passes {arg!r} where netshape needs a tensor from an earlier layer")

    def learned(self, node, attr):
        """A parameter forward() reads itself (ConvNeXt's layer_scale, ViT's class_token): a Parameter layer
        named as the attribute, in its module's container, written where it is first used."""
        target = self.other[attr][1]
        try:
            t = self.model.get_parameter(target)
        except AttributeError:
            kind = "buffer" if target in dict(self.model.named_buffers()) else "tensor attribute"
            self.fail(node, f"reads the {kind} `{target}` in forward(); netshape's Parameter is a learned tensor",
                      help="netshape counts learned tensors (nn.Parameter); a fixed tensor has no layer kind")
        parts = target.split(".")
        self.value[attr] = self.place(parts[:-1], parts[-1], {"type": "Parameter", "shape": list(t.shape)},
                                      [self.last or "input"])
        return self.value[attr]

    def is_learned(self, arg):
        return isinstance(arg, self.torch.fx.Node) and self.other.get(arg, ("",))[0] == "attr"

    def size_ref(self, node, arg):
        """x.shape[0] or x.size(0), read to size another tensor: "NAME.shape[0]"; None for anything else."""
        info = self.other.get(arg) if isinstance(arg, self.torch.fx.Node) else None
        if info and info[0] == "dim" and isinstance(info[2], int):
            return f"{self.tensor(node, info[1])}.shape[{info[2]}]"
        return None

    def run(self):
        for node in self.graph.nodes:
            getattr(self, "on_" + node.op)(node)
        layers = self.root
        return layers, self.outputs

    def on_placeholder(self, node):
        if "input" in self.value.values():
            self.fail(node, f"takes a second input `{node.name}`; a spec has one input")
        self.value[node] = "input"

    def on_get_attr(self, node):
        self.other[node] = ("attr", node.target)  # a Parameter layer where a tensor is needed (learned())

    def on_output(self, node):
        out = node.args[0]
        outs = list(out.values()) if isinstance(out, dict) else list(out) if isinstance(out, (tuple, list)) else [out]
        names = [self.tensor(node, o) for o in outs]
        if names != [self.last]:
            self.outputs = names

    def on_call_module(self, node):
        m = self.modules[node.target]
        layer = module_layer(m)
        if layer is None:
            self.fail(node, f"calls `{node.target}`, a {type(m).__name__}, which netshape has no layer kind for")
        if len(node.args) != 1 or node.kwargs:
            self.fail(node, f"calls `{node.target}` with {len(node.args)} arguments; a layer takes one tensor")
        if node.target in self.first:  # called again: the same weights (R2U-Net's recurrent conv)
            layer = {"shares": self.first[node.target]}
        parts = node.target.split(".")
        self.value[node] = self.place(parts[:-1], parts[-1], layer, [self.tensor(node, node.args[0])])
        self.first.setdefault(node.target, self.value[node])

    def here(self, node):
        path = node.meta.get("netshape_path") or ""
        return path.split(".") if path else []

    def layer(self, node, layer, source):
        self.value[node] = self.place(self.here(node), node.name, without_defaults(layer),
                                      [self.tensor(node, source)], functional=True)

    def merge(self, node, kind, inputs, extra=None):
        names = [self.tensor(node, x) for x in inputs]
        self.value[node] = self.place(self.here(node), node.name, {"type": kind, **(extra or {})}, names,
                                      merge=True, functional=True)

    def alias(self, node, source):
        self.value[node] = self.tensor(node, source)

    def on_call_function(self, node):
        self.call(node, node.target, list(node.args), dict(node.kwargs))

    def on_call_method(self, node):
        self.call(node, node.target, list(node.args), dict(node.kwargs), method=True)

    SIZE_ARITHMETIC = (operator.add, operator.sub, operator.mul, operator.floordiv)

    def size_expr(self, arg):
        """A size computed in forward() (diffY = x2.size()[2] - x1.size()[2]) as a tree netshape can
        compare: an int, ("dim", NAME, d), or (op, a, b); None for anything else."""
        if type(arg) is int:
            return arg
        info = self.other.get(arg) if isinstance(arg, self.torch.fx.Node) else None
        if info and info[0] == "dim" and type(info[2]) is int:
            return ("dim", self.value.get(info[1], info[1]), info[2])
        if info and info[0] == "expr":
            return info[1]
        return None

    def call(self, node, fn, args, kwargs, method=False):
        torch, F, Node = self.torch, self.F, self.torch.fx.Node
        name = fn if method else getattr(fn, "__name__", str(fn))
        # arithmetic on sizes (diffY = x2.size()[2] - x1.size()[2]; diffY // 2): kept for F.pad
        if not method and fn in self.SIZE_ARITHMETIC and len(args) == 2 and not kwargs and \
                any(isinstance(a, Node) and a in self.other for a in args):
            parts = [self.size_expr(a) for a in args]
            if all(p is not None for p in parts):
                self.other[node] = ("expr", (fn.__name__, parts[0], parts[1]))
                return None
        # two tensors: earlier layers' outputs or parameters forward() reads (Parameter layers)
        operands = len(args) == 2 and not kwargs and all(
            isinstance(a, Node) and (a in self.value or self.is_learned(a)) for a in args)
        if (method and fn in ("add", "__add__", "add_")) or (not method and fn in (operator.add, operator.iadd,
                                                                                  torch.add)):
            if operands:  # PyTorch's + broadcasts (x + self.pos_embedding, x + context): so does the Add
                return self.merge(node, "Add", args, {"broadcast": True})
            return self.fail(node, f"adds {args[1]!r} to a tensor; netshape's Add takes two layers' outputs")
        if (method and fn in ("mul", "__mul__", "mul_")) or (not method and fn in (operator.mul, operator.imul,
                                                                                  torch.mul)):
            if operands:
                return self.merge(node, "Mul", args)  # self.layer_scale * x broadcasts, as Mul does
            return self.fail(node, f"multiplies a tensor by {args[1]!r}; netshape's Mul takes two layers' outputs")
        if method and fn in ("matmul", "__matmul__") or not method and fn in (operator.matmul, torch.matmul):
            if operands:  # q @ k.transpose(-2, -1)
                return self.merge(node, "Matmul", args)
            return self.fail(node, f"multiplies a matrix by {args[1]!r}; netshape's Matmul takes two layers' outputs")
        if not method and fn is torch.cat:
            a = _bind(args, kwargs, ["tensors", "dim"], {"dim": 0})
            if len(a["tensors"]) == 1:  # torch.cat([x]) is x (DenseNet's first layer)
                return self.alias(node, a["tensors"][0])
            return self.merge(node, "Cat", list(a["tensors"]), {"dim": a["dim"]})
        if (not method and fn is torch.flatten) or (method and fn == "flatten"):
            a = _bind(args[1:], kwargs, ["start_dim", "end_dim"], {"start_dim": 0, "end_dim": -1})
            return self.layer(node, {"type": "Flatten", "start_dim": a["start_dim"], "end_dim": a["end_dim"]},
                              args[0])
        if method and fn in ("view", "reshape") or (not method and fn is torch.reshape):
            return self.view(node, args, kwargs)
        if method and fn == "size" or (not method and fn is getattr) and len(args) > 1 and args[1] == "shape":
            dim = _bind(args[1:], kwargs, ["dim"]).get("dim") if method else None
            self.other[node] = ("dim", args[0], dim) if dim is not None else ("size", args[0])
            return None
        if not method and fn is operator.getitem:
            return self.getitem(node, args)
        if method and fn in ("contiguous",):
            return self.alias(node, args[0])
        if not method and fn is torch.permute or method and fn == "permute":
            dims = list(args[1:]) if len(args) > 2 or not isinstance(args[1] if len(args) > 1 else None,
                                                                       (list, tuple)) else list(args[1])
            dims = dims or list(kwargs.get("dims", []))
            if not all(isinstance(d, int) for d in dims):
                return self.fail(node, f"permutes by {dims!r}, computed at run time; netshape takes fixed dims")
            return self.layer(node, {"type": "Permute", "dims": dims}, args[0])
        if not method and fn in (torch.squeeze, torch.unsqueeze) or method and fn in ("squeeze", "unsqueeze"):
            a = _bind(args[1:], kwargs, ["dim"])
            kind = "Unsqueeze" if name == "unsqueeze" else "Squeeze"
            return self.layer(node, {"type": kind, **({"dim": a["dim"]} if a.get("dim") is not None else {})}, args[0])
        if method and fn == "expand":
            sizes = list(args[1:]) if len(args) > 2 or not isinstance(args[1] if len(args) > 1 else None,
                                                                        (list, tuple)) else list(args[1])
            sizes = [s if isinstance(s, int) else self.size_ref(node, s) or s for s in sizes]
            if not all(isinstance(s, (int, str)) for s in sizes):
                return self.fail(node, f"expands to {sizes!r}, sizes read from a tensor at run time; netshape takes "
                                       "fixed sizes (-1 keeps a dim)")
            return self.layer(node, {"type": "Expand", "sizes": sizes}, args[0])
        if method and fn == "expand_as" and len(args) == 2 and isinstance(args[1], self.torch.fx.Node):
            return self.layer(node, {"type": "Expand", "size_from": self.tensor(node, args[1])}, args[0])
        if not method and fn is torch.roll or method and fn == "roll":
            a = _bind(args[1:], kwargs, ["shifts", "dims"])
            layer = {"type": "Roll", "shifts": _l(a["shifts"])}
            if a.get("dims") is not None:
                layer["dims"] = _l(a["dims"])
            return self.layer(node, layer, args[0])
        if not method and fn is torch.select or method and fn == "select":
            a = _bind(args[1:], kwargs, ["dim", "index"])
            return self.layer(node, {"type": "Select", "dim": a["dim"], "index": a["index"]}, args[0])
        if not method and fn in (torch.sum, torch.amax) or method and fn in ("sum", "amax"):
            return self.reduce(node, {"sum": "Sum", "amax": "Amax"}[name], args, kwargs)
        if not method and fn is torch.transpose or method and fn == "transpose":
            a = _bind(args[1:], kwargs, ["dim0", "dim1"])
            return self.layer(node, {"type": "Transpose", "dim0": a["dim0"], "dim1": a["dim1"]}, args[0])
        if not method and fn is torch.chunk or method and fn == "chunk":
            a = _bind(args[1:], kwargs, ["chunks", "dim"], {"dim": 0})
            self.tensor(node, args[0])
            self.other[node] = ("chunk", args[0], a["chunks"], a["dim"])
            return None
        if not method and fn is torch.narrow or method and fn == "narrow":
            a = _bind(args[1:], kwargs, ["dim", "start", "length"])
            return self.layer(node, {"type": "Narrow", **a}, args[0])
        if not method and fn in self.pools:
            return self.pool(node, fn, args, kwargs)
        kind = None if method else self.pointwise.get(fn)
        if method and fn in ("relu", "sigmoid", "tanh", "relu_", "sigmoid_", "tanh_"):
            kind = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}[fn.rstrip("_")]
        if kind:
            return self.pointwise_layer(node, kind, args, kwargs)
        if not method and fn is F.interpolate:
            return self.interpolate(node, args, kwargs)
        if not method and fn is F.layer_norm:
            return self.layer_norm(node, args, kwargs)
        if not method and fn in (F.dropout, F.dropout1d if hasattr(F, "dropout1d") else None, F.dropout2d,
                                 F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout):
            kind = {"dropout": "Dropout", "dropout1d": "Dropout1d", "dropout2d": "Dropout2d",
                    "dropout3d": "Dropout3d", "alpha_dropout": "AlphaDropout",
                    "feature_alpha_dropout": "FeatureAlphaDropout"}[fn.__name__]
            a = _bind(args[1:], kwargs, ["p", "training", "inplace"], {"p": 0.5, "inplace": False})
            return self.layer(node, {"type": kind, "p": a["p"], "inplace": a["inplace"]}, args[0])
        if not method and fn in (F.softmax, F.log_softmax, F.softmin, torch.softmax, torch.log_softmax) or \
                method and fn in ("softmax", "log_softmax"):
            a = _bind(args[1:], kwargs, ["dim"])
            kind = {"softmax": "Softmax", "log_softmax": "LogSoftmax", "softmin": "Softmin"}[name]
            return self.layer(node, {"type": kind, **({"dim": a["dim"]} if a.get("dim") is not None else {})},
                              args[0])
        if not method and fn is F.pad:
            a = _bind(args[1:], kwargs, ["pad", "mode", "value"], {"mode": "constant", "value": 0.0})
            if any(isinstance(x, Node) for x in a["pad"]):
                return self.pad_to(node, args[0], a)
            if a["mode"] != "constant" or len(a["pad"]) % 2 or not 2 <= len(a["pad"]) <= 6:
                return self.fail(node, f"pads with mode {a['mode']!r}; netshape maps F.pad's constant mode")
            r = len(a["pad"]) // 2
            return self.layer(node, {"type": f"ConstantPad{r}d", "padding": list(a["pad"]),
                                     "value": a["value"] or 0.0}, args[0])
        if not method and getattr(fn, "__name__", "") == "stochastic_depth":  # torchvision.ops: in eval, x
            a = _bind(args[1:], kwargs, ["p", "mode", "training"], {"training": True})
            if a["training"] is False:  # the StochasticDepth module that called it, by its name
                path = self.here(node)
                self.value[node] = self.place(path[:-1], path[-1] if path else node.name,
                                              {"type": "StochasticDepth", "p": a["p"], "mode": a["mode"]},
                                              [self.tensor(node, args[0])])
                return None
        if not method and getattr(fn, "__name__", "") == "channel_shuffle":
            a = _bind(args[1:], kwargs, ["groups"])
            return self.layer(node, {"type": "ChannelShuffle", "groups": a["groups"]}, args[0])
        if method and fn == "mean" or not method and fn is torch.mean:
            return self.mean(node, args, kwargs)
        where = f"x.{fn}()" if method else f"{getattr(fn, '__module__', '') or ''}.{name}".lstrip(".")
        return self.fail(node, f"calls {where}, which netshape has no layer for")

    def pointwise_layer(self, node, kind, args, kwargs):
        names = {"LeakyReLU": ["negative_slope", "inplace"], "ELU": ["alpha", "inplace"],
                 "Softplus": ["beta", "threshold"], "Hardtanh": ["min_val", "max_val", "inplace"],
                 "GELU": ["approximate"]}.get(kind, ["inplace"])
        a = _bind(args[1:], kwargs, names)
        a = {k: v for k, v in a.items() if k in names and not isinstance(v, self.torch.fx.Node)}
        if kind in ("Sigmoid", "Tanh"):
            a = {}
        return self.layer(node, {"type": kind, **a}, args[0])

    def pool(self, node, fn, args, kwargs):
        kind, names = self.pools[fn]
        a = _bind(args, kwargs, names)
        if a.pop("return_indices", False):
            return self.fail(node, "asks a pool for its indices; netshape follows one tensor per layer")
        src = a.pop("input")
        # F.avg_pool2d(out, out.size()[3]) (the CIFAR ResNet's global pool): "out.shape[3]"
        kernel = a.get("kernel_size")
        read = self.size_ref(node, kernel) if isinstance(kernel, self.torch.fx.Node) else None
        if read:
            a.pop("kernel_size")
        a = {k: _pair(k, v) for k, v in a.items() if v is not None}
        return self.layer(node, {"type": kind, **({"kernel_size": read} if read else {}), **a}, src)

    def interpolate(self, node, args, kwargs):
        a = _bind(args, kwargs, ["input", "size", "scale_factor", "mode", "align_corners",
                                 "recompute_scale_factor", "antialias"], {"mode": "nearest"})
        info = self.other.get(a.get("size")) if isinstance(a.get("size"), self.torch.fx.Node) else None
        if info and info[0] == "sizes" and info[2].stop is None and info[2].step is None and \
                isinstance(info[2].start, int) and (info[2].start == 2 or info[2].start < 0):
            # F.interpolate(x, size=y.shape[-2:]): y's spatial size (as y.shape[2:] when y has x's rank)
            d = {"type": "Upsample", "size_from": self.tensor(node, info[1]), "mode": a["mode"]}
            if a.get("align_corners") is not None:
                d["align_corners"] = a["align_corners"]
            return self.layer(node, d, a["input"])
        if any(isinstance(v, self.torch.fx.Node) for v in (a.get("size"), a.get("scale_factor"))):
            return self.fail(node, "resizes to a size computed from a tensor at run time (e.g. x.shape[2:])",
                             help="netshape follows fixed sizes: give F.interpolate a size or scale_factor")
        d = {"type": "Upsample", "mode": a["mode"]}
        for k in ("size", "scale_factor", "align_corners"):
            if a.get(k) is not None:
                d[k] = _l(a[k])
        return self.layer(node, d, a["input"])

    def pad_to(self, node, x, a):
        """F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2]) with diffX =
        x2.size()[3] - x1.size()[3] (a U-Net's Up block): a constant pad to x2's size."""
        pads = [self.size_expr(p) for p in a["pad"]]
        source = self.value.get(x, x)
        other, dims = None, []
        for k in range(0, len(pads) - 1, 2):
            diff = pads[k][1] if isinstance(pads[k], tuple) and pads[k][0] == "floordiv" else None
            ok = diff is not None and pads[k] == ("floordiv", diff, 2) and pads[k + 1] == ("sub", diff, pads[k]) and \
                diff[0] == "sub" and diff[1][0] == "dim" and diff[2][0] == "dim" and diff[1][2] == diff[2][2] and \
                diff[2][1] == source and (other is None or diff[1][1] == other)
            if not ok:
                break
            other = diff[1][1]
            dims.append(diff[1][2])
        consecutive = all(dims[i] - dims[i + 1] == 1 for i in range(len(dims) - 1)) and dims and \
            (dims[0] == -1 or dims[0] > 0)
        if a["mode"] != "constant" or len(dims) * 2 != len(pads) or not consecutive or not 1 <= len(dims) <= 3:
            return self.fail(node, f"pads by amounts computed at run time ({a['pad']!r}); netshape maps a pad to another "
                                   "tensor's size, F.pad(x1, [dX // 2, dX - dX // 2, dY // 2, dY - dY // 2]) with "
                                   "dX = x2.size()[3] - x1.size()[3]",
                             help="write fixed amounts, or pad as the U-Net does: half the difference before")
        layer = {"type": f"ConstantPad{len(dims)}d", "size_from": other}
        if a["value"]:
            layer["value"] = a["value"]
        return self.layer(node, layer, x)

    def layer_norm(self, node, args, kwargs):
        """F.layer_norm(x, shape, self.weight, self.bias, eps), as torchvision's LayerNorm2d calls it between two
        permutes: a LayerNorm whose learned scale and shift are the module's own."""
        a = _bind(args, kwargs, ["input", "normalized_shape", "weight", "bias", "eps"],
                  {"weight": None, "bias": None, "eps": 1e-5})
        if a["weight"] is None and a["bias"] is not None or \
                any(x is not None and not self.is_learned(x) for x in (a["weight"], a["bias"])):
            return self.fail(node, "calls F.layer_norm with a weight or bias computed in forward()",
                             help="netshape's LayerNorm learns its own scale and shift: pass the module's parameters")
        layer = {"type": "LayerNorm", "normalized_shape": _l(a["normalized_shape"]), "eps": a["eps"],
                 "elementwise_affine": a["weight"] is not None}
        if a["weight"] is not None and a["bias"] is None:
            layer["bias"] = False
        return self.layer(node, layer, a["input"])

    def mean(self, node, args, kwargs):
        return self.reduce(node, "Mean", args, kwargs)

    def reduce(self, node, kind, args, kwargs):
        """x.mean((2, 3)), torch.sum(x, 1, keepdim=True), x.amax(-1): Mean, Sum, Amax over those dims."""
        a = _bind(args[1:], kwargs, ["dim", "keepdim"], {"keepdim": False})
        dims = a.get("dim")
        if dims is None:
            return self.fail(node, f"reduces every dim to one number ({kind.lower()}() without dim); netshape "
                                   "follows tensors with dims", help="give the dims, e.g. x.mean((2, 3))")
        dims = list(dims) if isinstance(dims, (tuple, list)) else dims
        layer = {"type": kind, "dim": dims}
        if a["keepdim"]:
            layer["keepdim"] = True
        return self.layer(node, layer, args[0])

    def view(self, node, args, kwargs):
        """x.view(x.size(0), -1) and x.reshape(x.shape[0], -1): a Flatten; fixed sizes (x.view(-1, 16 * 5 * 5)):
        a View or Reshape; sizes read from a tensor otherwise are refused."""
        shape = list(args[1:]) if len(args) > 2 or not isinstance(args[1] if len(args) > 1 else None,
                                                                   (list, tuple)) else list(args[1])
        shape = shape or list(kwargs.get("shape", []))
        if len(shape) == 2 and shape[1] == -1 and self.is_batch_size(shape[0], args[0]):
            return self.layer(node, {"type": "Flatten"}, args[0])
        # y.view(b, c, 1, 1) after b, c, _, _ = x.size() (an SE block): "x.shape[0]", one tensor's sizes
        shape = [s if isinstance(s, int) else self.size_ref(node, s) or s for s in shape]
        refs = {s.rsplit(".shape[", 1)[0] for s in shape if isinstance(s, str)}
        if shape and all(isinstance(s, (int, str)) for s in shape) and len(refs) <= 1:
            kind = "View" if node.op == "call_method" and node.target == "view" else "Reshape"
            return self.layer(node, {"type": kind, "shape": shape}, args[0])
        return self.fail(node, f"reshapes to {shape}, sizes computed at run time; netshape maps fixed sizes, sizes "
                               "read from one tensor (x.size(0), b after b, c, _, _ = x.size()) and "
                               "x.view(x.size(0), -1) (a Flatten)",
                         help="write the sizes as numbers (x.view(-1, 400)), or nn.Flatten() / nn.Unflatten(dim, sizes)")

    def is_batch_size(self, arg, source):
        Node = self.torch.fx.Node
        if not isinstance(arg, Node):
            return False
        if arg.op == "call_method" and arg.target == "size" and len(arg.args) > 1 and arg.args[1] == 0:
            return True
        if arg.op == "call_function" and arg.target is operator.getitem and arg.args[1] == 0 and \
                arg.args[0] in self.other and self.other[arg.args[0]][0] == "size":
            return True
        return False

    @staticmethod
    def index_steps(index):
        """x[i0, i1, …] as Select and Slice layers; None for an index netshape does not map (a tensor,
        Ellipsis, None)."""
        steps, d = [], 0
        for i in index if isinstance(index, tuple) else (index,):
            if isinstance(i, slice) and all(v is None or type(v) is int for v in (i.start, i.stop, i.step)):
                if i != slice(None):
                    layer = {"type": "Slice", "dim": d}
                    for key, v in (("start", i.start), ("end", i.stop), ("step", i.step)):
                        if v is not None:
                            layer[key] = v
                    steps.append(layer)
                d += 1
            elif type(i) is int:
                steps.append({"type": "Select", "dim": d, "index": i})  # the dim goes: d stays
            else:
                return None
        return steps

    def getitem(self, node, args):
        src, index = args
        info = self.other.get(src)
        # x[:, 0] (ViT's class token) is a Select; x[:, :, ::2, ::2] (the CIFAR ResNet's option-A
        # shortcut) one Slice per dim it slices, in order.
        steps = self.index_steps(index) if info is None else None
        if steps:
            name = self.tensor(node, src)
            for layer in steps:
                name = self.place(self.here(node), node.name, without_defaults(layer), [name], functional=True)
            self.value[node] = name
            return None
        if info and info[0] == "chunk":
            _, tensor, chunks, dim = info
            return self.layer(node, {"type": "Chunk", "chunks": chunks, "dim": dim, "index": index}, tensor)
        if info and info[0] == "sizes" and type(index) is int and index >= 0 and info[2].step is None and \
                isinstance(info[2].start, int) and (info[2].start >= 0 or info[2].start + index < 0):
            # T, H, W = x.shape[2:]: one size each, dim start + index
            self.other[node] = ("dim", info[1], info[2].start + index)
            return None
        if info and info[0] == "size":  # x.shape[0]: one size; x.shape[-2:]: sizes (F.interpolate's size)
            self.other[node] = ("dim", info[1], index) if isinstance(index, int) else ("sizes", info[1], index)
            return None
        return self.fail(node, f"indexes a tensor with {index!r}; netshape maps integers and slices "
                               "(x[:, 0], x[:, :, ::2]), torch.narrow and torch.chunk")


def guess_input(layers):
    """[1, C, 224, 224] from a first Conv2d, [1, features] from a first Linear; None otherwise."""
    first = layers[0] if layers else None
    while first and first.get("type") == "Sequential":
        first = first["layers"][0] if first["layers"] else None
    if not first:
        return None
    if first["type"] == "Conv2d":
        return [1, first["in_channels"], 224, 224]
    if first["type"] == "Linear":
        return [1, first["in_features"]]
    return None


def spec_text(spec):
    """The spec as JSON a person reads: one line per layer, containers opened."""
    def one(x):
        return json.dumps(x, separators=(", ", ": "))

    def layers(items, depth):
        pad = "  " * depth
        lines = []
        for item in items:
            if item.get("type") == "Sequential":
                head = one({k: v for k, v in item.items() if k != "layers"})[:-1]
                lines.append(f'{pad}{head}, "layers": [\n{layers(item["layers"], depth + 1)}\n{pad}]}}')
            else:
                lines.append(pad + one(item))
        return ",\n".join(lines)
    head = ",\n".join(f"  {json.dumps(k)}: {one(v)}" for k, v in spec.items() if k != "layers")
    return "{\n" + head + ',\n  "layers": [\n' + layers(spec["layers"], 2) + "\n  ]\n}"


def main():
    p = argparse.ArgumentParser(prog="netshape import", description=__doc__.split("\n\n")[0])
    p.add_argument("target", help="FILE.py:NAME or module.path:NAME (a class, or a function returning a module)")
    p.add_argument("--input", help="the input shape, e.g. 1,3,224,224 (names allowed: N,3,H,W)")
    p.add_argument("--arg", action="append", default=[], help="KEY=VALUE for NAME's constructor (repeatable)")
    p.add_argument("--module", help="a submodule to import, by its dotted name (a detection model's backbone)")
    p.add_argument("--source-name", help=argparse.SUPPRESS)
    p.add_argument("--output-path", help=argparse.SUPPRESS)  # netshape's -o: never the model's own file
    a = p.parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        # The python3 first on PATH (a pyenv, a venv) may lack PyTorch where the
        # system's has it (Debian's python3-torch): that one is tried next.
        system = "/usr/bin/python3"
        if os.path.realpath(sys.executable) != os.path.realpath(system) and os.path.exists(system) \
                and not os.environ.get("NETSHAPE_PYTHON"):
            os.execv(system, [system] + sys.argv)
        return report(ImportFailure("no-torch", f"{sys.executable} cannot import torch",
                                    help="install PyTorch (Debian: apt-get install python3-torch), or point "
                                         "NETSHAPE_PYTHON at a python3 that has it", exit_code=EXIT_USAGE))
    # The spec goes to the real standard output; anything the model prints
    # while it loads or traces goes to standard error, never into the spec.
    sys.stdout.flush()
    spec_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        model, name = load_target(a.target, a.arg, a.output_path)
        if a.module:
            model, name = submodule(model, a.module), f"{name}.{a.module}"
        model.eval()  # as netshape evaluates: dropout off, BatchNorm's running statistics
        graph, called = trace(model)
        converter = Converter(model, graph, called)
        layers, outputs = converter.run()
        left_out = unused_modules(model, called)
        shape = None
        if a.input:
            shape = [int(x) if x.strip().lstrip("-").isdigit() else x.strip() for x in a.input.split(",")]
        else:
            shape = guess_input(layers)
            if shape is None:
                raise ImportFailure("usage", "the input shape cannot be guessed from the first layer",
                                    help="give it: --input 1,3,224,224", exit_code=EXIT_USAGE)
            sys.stderr.write(f"note: input {shape}, guessed from the first layer; --input sets it\n")
    except ImportFailure as f:
        return report(f)
    except SystemExit as e:
        return report(ImportFailure("load", f"the model ended the process while being traced: sys.exit({e.code!r})",
                                    exit_code=EXIT_USAGE))
    description = f"Imported from {a.target}" + (f", its `{a.module}`," if a.module else "") + \
                  " by `netshape import` (torch.fx)" + (f" with {', '.join(a.arg)}" if a.arg else "") + "."
    if left_out:
        description += " " + warn_unused(left_out, model, a.target)
    for note in converter.notes:
        sys.stderr.write(f"note: {note}\n")
    spec = {"name": name.split(".")[-1], "description": description, "input": shape, "layers": layers}
    if outputs:
        spec["outputs"] = outputs
    spec_out.write(spec_text(spec) + "\n")
    spec_out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
