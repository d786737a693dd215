#include "export.h"

#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kinds.h"
#include "text.h"

namespace netshape {
namespace {

using nlohmann::json;

// ---- Python text --------------------------------------------------------

std::string py_bool(bool b) { return b ? "True" : "False"; }
std::string py_int(int64_t v) { return std::to_string(v); }
// A float as Python reads it back ("1.0", not "1": the argument is a float).
std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}
// A string literal: nothing in `s` can end it or hide in it (python_escape).
std::string py_str(const std::string& s) { return "\"" + python_escape(s) + "\""; }
std::string py_tuple(const std::vector<int64_t>& v) {
  if (v.size() == 1) return fmt::format("({},)", v[0]);
  return fmt::format("({})", fmt::join(v, ", "));
}
// A tuple of Python expressions already written out.
std::string py_list_tuple(const std::vector<std::string>& v) {
  return fmt::format("({}{})", fmt::join(v, ", "), v.size() == 1 ? "," : "");
}
// An int when every dim is the same (PyTorch's _pair takes it), else a tuple.
std::string py_dims(const Dims& v) {
  for (auto x : v)
    if (x != v[0]) return py_tuple(v);
  return v.empty() ? "()" : py_int(v[0]);
}
std::string py_literal(const json& j) {
  if (j.is_boolean()) return py_bool(j.get<bool>());
  if (j.is_null()) return "None";
  if (j.is_array()) {
    std::vector<std::string> items;
    for (const auto& x : j) items.push_back(py_literal(x));
    return fmt::format("[{}]", fmt::join(items, ", "));
  }
  if (j.is_object()) {
    std::vector<std::string> items;
    for (auto it = j.begin(); it != j.end(); ++it) items.push_back(py_str(it.key()) + ": " + py_literal(*it));
    return fmt::format("{{{}}}", fmt::join(items, ", "));
  }
  return j.dump();  // numbers and strings are written alike
}

bool is_keyword(const std::string& s) {
  static const std::set<std::string> k = {
      "False", "None",   "True",   "and",   "as",       "assert", "async",  "await", "break",
      "class", "continue", "def",  "del",   "elif",     "else",   "except", "finally", "for",
      "from",  "global", "if",     "import", "in",      "is",     "lambda", "nonlocal", "not",
      "or",    "pass",   "raise",  "return", "try",     "while",  "with",   "yield"};
  return k.count(s) > 0;
}
// A name written as `self.name`: an identifier, and not one Python mangles
// (`__x` inside a class body becomes `_Class__x`).
bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])) || s.rfind("__", 0) == 0) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return !is_keyword(s);
}
// nn.Module's own attributes, which add_module() refuses as module names
// ("attribute 'x' already exists"): PyTorch 1.13's dir(nn.Module()), the
// ones 2.x added, every dunder, and the Branches helper's own.
bool is_module_attribute(const std::string& s) {
  static const std::set<std::string> a = {
      "T_destination", "add_module", "apply", "bfloat16", "buffers", "children", "cpu", "cuda", "double",
      "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer", "get_extra_state",
      "get_parameter", "get_submodule", "half", "ipu", "load_state_dict", "modules", "named_buffers",
      "named_children", "named_modules", "named_parameters", "parameters", "register_backward_hook",
      "register_buffer", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
      "register_load_state_dict_post_hook", "register_module", "register_parameter", "requires_grad_",
      "set_extra_state", "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu",
      "zero_grad",
      // private in 1.13
      "_apply", "_backward_hooks", "_buffers", "_call_impl", "_forward_hooks", "_forward_pre_hooks",
      "_get_backward_hooks", "_get_name", "_is_full_backward_hook", "_load_from_state_dict",
      "_load_state_dict_post_hooks", "_load_state_dict_pre_hooks", "_maybe_warn_non_full_backward_hook", "_modules",
      "_named_members", "_non_persistent_buffers_set", "_parameters", "_register_load_state_dict_pre_hook",
      "_register_state_dict_hook", "_replicate_for_data_parallel", "_save_to_state_dict", "_slow_forward",
      "_state_dict_hooks", "_version",
      // added in 2.x
      "compile", "mtia", "set_submodule", "call_super_init", "register_full_backward_pre_hook",
      "register_state_dict_pre_hook", "register_state_dict_post_hook", "register_load_state_dict_pre_hook",
      "_backward_pre_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
      "_forward_pre_hooks_with_kwargs", "_state_dict_pre_hooks", "_wrapped_call_impl", "_compiled_call_impl",
      "_get_backward_pre_hooks",
      // the Branches helper keeps its settings here
      "_netshape_merge"};
  bool dunder = s.size() > 4 && s.rfind("__", 0) == 0 && s.compare(s.size() - 2, 2, "__") == 0;
  return a.count(s) > 0 || dunder;
}
// Names a generated Python name must never take: the keywords, Python's
// builtins (a parameter named `super` breaks super().__init__()), and every
// name the file itself defines or imports at module level.
bool is_reserved(const std::string& s) {
  static const std::set<std::string> r = {
      "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes",
      "callable", "chr", "classmethod", "compile", "complex", "copyright", "credits", "delattr", "dict", "dir",
      "divmod", "enumerate", "eval", "exec", "exit", "filter", "float", "format", "frozenset", "getattr",
      "globals", "hasattr", "hash", "help", "hex", "id", "input", "int", "isinstance", "issubclass", "iter",
      "len", "license", "list", "locals", "map", "max", "memoryview", "min", "next", "object", "oct", "open",
      "ord", "pow", "print", "property", "quit", "range", "repr", "reversed", "round", "set", "setattr",
      "slice", "sorted", "staticmethod", "str", "sum", "super", "tuple", "type", "vars", "zip",
      "Ellipsis", "NotImplemented", "Exception",
      // the file's own
      "torch", "nn", "OrderedDict", "Branches", "Merge", "Narrow", "Slice", "Chunk", "Permute", "Transpose", "Reshape", "View",
      "TensorMethod", "LearnedTensor", "ExpandFrom", "ReshapeFrom", "ExpandAs", "PoolFrom", "PadTo", "InterpolateTo", "merge", "center_crop", "self"};
  return r.count(s) > 0 || is_keyword(s) || s.rfind("__", 0) == 0;
}
// A Python identifier made from a name: "layer1.0" -> "layer1_0".
std::string identifier(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  if (is_keyword(out)) out += "_";
  return out;
}
// A Python name for `want` that is not reserved and not `taken`: "super" ->
// "super_", "__class__" -> "p__class__".
template <class Taken> std::string python_name(const std::string& want, const Taken& taken) {
  std::string name = identifier(want);
  if (name.rfind("__", 0) == 0) name = "p" + name;
  while (is_reserved(name) || taken(name)) name += "_";
  return name;
}
// "se_resnet_block" -> "SeResnetBlock".
std::string class_name(const std::string& s) {
  std::string out;
  bool up = true;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) { up = true; continue; }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "Net" + out;
  return out;
}
std::string indent_text(int n) { return std::string(static_cast<std::size_t>(n), ' '); }

// ---- modules as expressions ---------------------------------------------

// One constructor argument; `key` "" is positional. Left out when equal to
// `dflt` (PyTorch's default; "" = always written) or when `omit`.
struct Arg {
  std::string key, value, dflt;
  bool omit = false;
  bool shown() const { return !omit && (dflt.empty() || value != dflt); }
};
struct Expr;
struct Kid {
  std::string name;
  std::shared_ptr<Expr> expr;  // nullptr: None (an empty branch: the input itself)
};
// A module as a Python expression: a call, an nn.Sequential of named kids,
// or the Branches helper holding its branches (and `after`, the last kid).
struct Expr {
  enum Style { call, sequential, branches, name } style = call;  // name: `head` alone, a variable
  std::string head;
  std::vector<Arg> args;
  std::vector<Kid> kids;
  std::string bind;  // `(bind := …)`: a module that a later `shares` layer uses again
};

bool named_kids(const Expr& e) {
  for (std::size_t i = 0; i < e.kids.size(); ++i)
    if (e.kids[i].name != std::to_string(i)) return true;
  return false;
}

std::string args_text(const std::vector<Arg>& args) {
  std::vector<std::string> parts;
  for (const auto& a : args)
    if (a.shown()) parts.push_back(a.key.empty() ? a.value : a.key + "=" + a.value);
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string render(const Expr& e, int indent);
std::string render_kid(const Kid& k, int indent) { return k.expr ? render(*k.expr, indent) : "None"; }

std::string render_unbound(const Expr& e, int indent);
std::string render(const Expr& e, int indent) {
  std::string text = render_unbound(e, indent);
  return e.bind.empty() ? text : "(" + e.bind + " := " + text + ")";
}

std::string render_unbound(const Expr& e, int indent) {
  std::string in = indent_text(indent + 4), out;
  if (e.style == Expr::name) return e.head;
  if (e.style == Expr::call) return e.head + "(" + args_text(e.args) + ")";
  if (e.style == Expr::sequential) {
    if (e.kids.empty()) return "nn.Sequential()";
    if (!named_kids(e)) {
      out = "nn.Sequential(\n";
      for (const auto& k : e.kids) out += in + render_kid(k, indent + 4) + ",\n";
      return out + indent_text(indent) + ")";
    }
    out = "nn.Sequential(OrderedDict([\n";
    for (const auto& k : e.kids) out += in + "(" + py_str(k.name) + ", " + render_kid(k, indent + 4) + "),\n";
    return out + indent_text(indent) + "]))";
  }
  // Branches(merge, [(name, branch), …], after=…, dim=…, crop=…, merged=…)
  out = e.head + "(" + e.args[0].value + ", [\n";
  const Kid* after = nullptr;
  for (const auto& k : e.kids) {
    if (k.name == "after" && &k == &e.kids.back() && e.args.back().value == "True") { after = &k; continue; }
    out += in + "(" + py_str(k.name) + ", " + render_kid(k, indent + 4) + "),\n";
  }
  out += indent_text(indent) + "]";
  if (after) out += ", after=" + render_kid(*after, indent);
  std::vector<Arg> rest(e.args.begin() + 1, e.args.end() - 1);
  std::string r = args_text(rest);
  return out + (r.empty() ? "" : ", " + r) + ")";
}

std::shared_ptr<Expr> deep_copy(const Expr& e) {
  auto c = std::make_shared<Expr>(e);
  for (auto& k : c->kids)
    if (k.expr) k.expr = deep_copy(*k.expr);
  return c;
}

// The comparison two uses of a block need: the same calls with the same
// argument names, whatever the values. `slots` gets every argument in order.
void skeleton(Expr& e, std::string& out, std::vector<Arg*>& slots) {
  out += fmt::format("{}:{}(", static_cast<int>(e.style), e.head);
  for (auto& a : e.args) {
    out += a.key + ",";
    slots.push_back(&a);
  }
  for (auto& k : e.kids) {
    out += k.name + "=";
    if (k.expr) skeleton(*k.expr, out, slots);
    else out += "None";
    out += ";";
  }
  out += ")";
}

// ---- the helpers a file may need ----------------------------------------

const char* const kMergeHelpers = R"PY(
def center_crop(xs, dim):
    """U-Net's copy and crop: every input cut to the smallest size of each
    spatial dim (2 on) but `dim`, keeping the centre: offset (big - small) // 2."""
    dim = dim % xs[0].dim()
    for axis in range(2, xs[0].dim()):
        if axis != dim:
            small = min(x.shape[axis] for x in xs)
            xs = [x.narrow(axis, (x.shape[axis] - small) // 2, small) for x in xs]
    return xs


def merge(op, xs, dim=1, crop=False):
    """torch.add, torch.cat along `dim`, torch.mul (broadcasting) or torch.matmul of the inputs."""
    if crop:
        xs = center_crop(xs, dim)
    if op == "cat":
        return torch.cat(xs, dim)
    if op == "matmul":
        return torch.matmul(*xs)
    y = xs[0]
    for x in xs[1:]:
        y = y + x if op == "add" else y * x
    return y
)PY";

const char* const kBranchesHelper = R"PY(

class Branches(nn.Module):
    """Every branch applied to the same input (None: the input itself), the
    results merged, then `after`. merged=False keeps the first branch alone."""

    def __init__(self, op, branches, after=None, dim=1, crop=False, merged=True):
        super().__init__()
        self._netshape_merge = (op, dim, crop, merged, [name for name, _ in branches])
        for name, branch in branches:
            self.add_module(name, branch)
        self.add_module("after", after)

    def forward(self, x):
        op, dim, crop, merged, names = self._netshape_merge
        ys = [x if self._modules[n] is None else self._modules[n](x) for n in names]
        y = merge(op, ys, dim, crop) if merged else ys[0]
        return y if self._modules["after"] is None else self._modules["after"](y)
)PY";

const char* const kMergeModule = R"PY(

class Merge(nn.Module):
    """A merge of earlier layers' outputs (netshape's Add, Cat, Mul, Matmul with `from`)."""

    def __init__(self, op, dim=1, crop=False):
        super().__init__()
        self.op, self.dim, self.crop = op, dim, crop

    def forward(self, *xs):
        return merge(self.op, list(xs), self.dim, self.crop)
)PY";

const char* const kSliceModule = R"PY(

class Slice(nn.Module):
    """x[:, start:end:step] on one dim as a module: Slice(2, None, None, 2) is x[:, :, ::2]."""

    def __init__(self, dim, start, end, step):
        super().__init__()
        self.dim, self.index = dim, slice(start, end, step)

    def forward(self, x):
        return x[(slice(None),) * self.dim + (self.index,)] if self.dim >= 0 else x[(Ellipsis, self.index) + (slice(None),) * (-self.dim - 1)]
)PY";

const char* const kNarrowModule = R"PY(

class Narrow(nn.Module):
    """torch.narrow(x, dim, start, length) as a module."""

    def __init__(self, dim, start, length):
        super().__init__()
        self.dim, self.start, self.length = dim, start, length

    def forward(self, x):
        return torch.narrow(x, self.dim, self.start, self.length)
)PY";

// Tensor methods as modules, so the export stays one nn.Module per layer.
const char* const kPermuteModule = R"PY(

class Permute(nn.Module):
    """x.permute(*dims) as a module."""

    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)
)PY";

const char* const kTransposeModule = R"PY(

class Transpose(nn.Module):
    """x.transpose(dim0, dim1) as a module."""

    def __init__(self, dim0, dim1):
        super().__init__()
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, x):
        return x.transpose(self.dim0, self.dim1)
)PY";

const char* const kReshapeModule = R"PY(

class Reshape(nn.Module):
    """x.reshape(*shape) as a module."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(*self.shape)
)PY";

const char* const kViewModule = R"PY(

class View(nn.Module):
    """x.view(*shape) as a module."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(*self.shape)
)PY";

const char* const kTensorMethodModule = R"PY(

class TensorMethod(nn.Module):
    """A tensor method as a module: TensorMethod("squeeze", -1) returns x.squeeze(-1)."""

    def __init__(self, method, *args, **kwargs):
        super().__init__()
        self.method, self.args, self.kwargs = method, args, kwargs

    def forward(self, x):
        return getattr(x, self.method)(*self.args, **self.kwargs)
)PY";

const char* const kLearnedModule = R"PY(

class LearnedTensor(nn.Module):
    """An nn.Parameter read in forward() (a class token, a layer scale): no input."""

    def __init__(self, *shape):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(*shape))

    def forward(self, *_):
        return self.weight
)PY";

const char* const kReshapeFromModule = R"PY(

class ReshapeFrom(nn.Module):
    """x.view(*sizes) or x.reshape(*sizes), a None size read from the other tensor: ReshapeFrom("view",
    (None, None, 1, 1), (0, 1, None, None)) is x.view(y.shape[0], y.shape[1], 1, 1)."""

    def __init__(self, method, sizes, dims):
        super().__init__()
        self.method, self.sizes, self.dims = method, sizes, dims

    def forward(self, x, y):
        return getattr(x, self.method)(*[y.shape[d] if d is not None else s for s, d in zip(self.sizes, self.dims)])
)PY";

const char* const kExpandAsModule = R"PY(

class ExpandAs(nn.Module):
    """x.expand_as(y): the other tensor's shape, size-1 dims repeated."""

    def forward(self, x, y):
        return x.expand_as(y)
)PY";

const char* const kPoolFromModule = R"PY(

class PoolFrom(nn.Module):
    """A pool whose kernel_size is read from the other tensor: PoolFrom("avg_pool2d", (None, None), (3, 3)) is
    F.avg_pool2d(x, (y.shape[3], y.shape[3])), as F.avg_pool2d(out, out.size()[3]) pools a whole map."""

    def __init__(self, fn, sizes, dims, **kwargs):
        super().__init__()
        self.fn, self.sizes, self.dims, self.kwargs = fn, sizes, dims, kwargs

    def forward(self, x, y):
        kernel = [y.shape[d] if d is not None else s for s, d in zip(self.sizes, self.dims)]
        return getattr(nn.functional, self.fn)(x, kernel, **self.kwargs)
)PY";

const char* const kPadToModule = R"PY(

class PadTo(nn.Module):
    """F.pad of x's last `dims` dims to y's sizes, as a U-Net pads an upsampled map to its skip's:
    diff // 2 before and diff - diff // 2 after (a negative diff crops)."""

    def __init__(self, dims, value=0.0):
        super().__init__()
        self.dims, self.value = dims, value

    def forward(self, x, y):
        pads = []
        for d in range(1, self.dims + 1):
            diff = y.shape[-d] - x.shape[-d]
            pads += [diff // 2, diff - diff // 2]
        return nn.functional.pad(x, pads, value=self.value)
)PY";

const char* const kSizedModules = R"PY(

class ExpandFrom(nn.Module):
    """x.expand(*sizes), a None size read from the other tensor: ExpandFrom((None, -1, -1), (0, None, None))
    is x.expand(y.shape[0], -1, -1)."""

    def __init__(self, sizes, dims):
        super().__init__()
        self.sizes, self.dims = sizes, dims

    def forward(self, x, y):
        return x.expand(*[y.shape[d] if d is not None else s for s, d in zip(self.sizes, self.dims)])


class InterpolateTo(nn.Module):
    """F.interpolate(x, size=y.shape[2:], mode=...): the other tensor's spatial size."""

    def __init__(self, mode="nearest", align_corners=None):
        super().__init__()
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x, y):
        return nn.functional.interpolate(x, size=y.shape[2:], mode=self.mode, align_corners=self.align_corners)
)PY";

const char* const kChunkModule = R"PY(

class Chunk(nn.Module):
    """torch.chunk(x, chunks, dim)[index] as a module (ShuffleNetV2's split)."""

    def __init__(self, chunks, index, dim=0):
        super().__init__()
        self.chunks, self.index, self.dim = chunks, index, dim

    def forward(self, x):
        return torch.chunk(x, self.chunks, self.dim)[self.index]
)PY";

// ---- one leaf layer -----------------------------------------------------

Expr call(std::string head, std::vector<Arg> args) { return Expr{Expr::call, std::move(head), std::move(args), {}}; }

// PyTorch's default for argument `name` of this layer's kind, as export writes
// a value (kinds.cc holds it): an argument equal to it is left out.
std::string py_default(const std::string& kind, const char* name) {
  const KindInfo* k = find_kind(kind);
  const netshape::Arg* a = k ? k->arg(name) : nullptr;
  if (!a) throw std::logic_error(kind + " declares no argument `" + name + "` in src/kinds.cc");
  const json& d = a->dflt;
  if (d.is_boolean()) return py_bool(d.get<bool>());
  if (d.is_number_integer()) return py_int(d.get<int64_t>());
  if (d.is_number_float()) return py_float(d.get<double>());
  if (d.is_string()) return py_str(d.get<std::string>());
  return "None";
}
std::string py_default(const Op& op, const char* name) { return py_default(op_name(op), name); }
std::string nn_name(const Op& op) { return std::string("nn.") + op_name(op); }

// Adaptive pools' output_size: None where the spec keeps the input's dim (0).
Expr adaptive_expr(const std::string& head, const Dims& size) {
  bool same = true;
  for (auto x : size) same = same && x == size[0] && x != 0;
  std::vector<std::string> items;
  for (auto x : size) items.push_back(x ? py_int(x) : "None");
  std::string text = same ? py_int(size[0]) : items.size() == 1 ? "(" + items[0] + ",)"
                                                                 : fmt::format("({})", fmt::join(items, ", "));
  return call(head, {{"", text, ""}});
}

// F.avg_pool2d(x, y.shape[3]) and the like: a pool whose kernel_size is
// read from another value (PoolFrom), with its stride when one was given.
template <class Pool>
Expr pool_from(const std::string& fn, const Pool& k, std::set<std::string>& helpers, std::vector<Arg> rest) {
  helpers.insert("PoolFrom");
  std::vector<std::string> sizes, dims;
  for (std::size_t i = 0; i < k.kernel_size.size(); ++i) {
    bool read = i < k.read.from_dim.size() && k.read.from_dim[i];
    sizes.push_back(read ? "None" : py_int(k.kernel_size[i]));
    dims.push_back(read ? py_int(*k.read.from_dim[i]) : "None");
  }
  std::vector<Arg> args{{"", py_str(fn), ""}, {"", py_list_tuple(sizes), ""}, {"", py_list_tuple(dims), ""}};
  if (!k.read.stride_follows) args.push_back({"stride", py_dims(k.stride), ""});
  for (auto& a : rest) args.push_back(std::move(a));
  return call("PoolFrom", args);
}

// The module of one leaf for its input shape: in_channels, num_features and
// in_features from the spec when given, else from the input.
Expr leaf_expr(const Op& op, const Shape& in, std::set<std::string>& helpers) {
  int64_t channels = in.size() > 1 ? in[1] : 0;
  return std::visit(
      overloaded{
          [&](const Conv& k) {
            std::string padding = k.padding_mode == Padding::same    ? "\"same\""
                                  : k.padding_mode == Padding::valid ? "\"valid\""
                                                                     : py_dims(k.padding);
            return call(nn_name(op), {{"", py_int(k.in_channels.value_or(channels)), ""},
                                      {"", py_int(k.out_channels), ""},
                                      {"", py_dims(k.kernel_size), ""},
                                      {"stride", py_dims(k.stride), py_default(op, "stride")},
                                      {"padding", padding, py_default(op, "padding")},
                                      {"dilation", py_dims(k.dilation), py_default(op, "dilation")},
                                      {"groups", py_int(k.groups), py_default(op, "groups")},
                                      {"bias", py_bool(k.bias), py_default(op, "bias")}});
          },
          [&](const ConvTranspose& k) {
            return call(nn_name(op), {{"", py_int(k.in_channels.value_or(channels)), ""},
                                      {"", py_int(k.out_channels), ""},
                                      {"", py_dims(k.kernel_size), ""},
                                      {"stride", py_dims(k.stride), py_default(op, "stride")},
                                      {"padding", py_dims(k.padding), py_default(op, "padding")},
                                      {"output_padding", py_dims(k.output_padding), py_default(op, "output_padding")},
                                      {"groups", py_int(k.groups), py_default(op, "groups")},
                                      {"bias", py_bool(k.bias), py_default(op, "bias")},
                                      {"dilation", py_dims(k.dilation), py_default(op, "dilation")}});
          },
          [&](const BatchNorm& k) {
            return call(nn_name(op), {{"", py_int(k.num_features.value_or(channels)), ""},
                                      {"eps", py_float(k.eps), py_default(op, "eps")},
                                      {"momentum", py_float(k.momentum), py_default(op, "momentum")},
                                      {"affine", py_bool(k.affine), py_default(op, "affine")},
                                      {"track_running_stats", py_bool(k.track_running_stats), py_default(op, "track_running_stats")}});
          },
          [&](const ReLU& k) { return call("nn.ReLU", {{"inplace", py_bool(k.inplace), py_default(op, "inplace")}}); },
          [&](const MaxPool& k) {
            if (!k.read.from_dim.empty())
              return pool_from(fmt::format("max_pool{}d", k.rank), k, helpers,
                               {{"padding", py_dims(k.padding), "0"}, {"dilation", py_dims(k.dilation), "1"},
                                {"ceil_mode", py_bool(k.ceil_mode), "False"}});
            return call(nn_name(op), {{"", py_dims(k.kernel_size), ""},
                                      {"stride", py_dims(k.stride), py_dims(k.kernel_size)},
                                      {"padding", py_dims(k.padding), py_default(op, "padding")},
                                      {"dilation", py_dims(k.dilation), py_default(op, "dilation")},
                                      {"ceil_mode", py_bool(k.ceil_mode), py_default(op, "ceil_mode")}});
          },
          [&](const AvgPool& k) {
            if (!k.read.from_dim.empty() && k.norm_type == 0)
              return pool_from(fmt::format("avg_pool{}d", k.rank), k, helpers,
                               {{"padding", py_dims(k.padding), "0"}, {"ceil_mode", py_bool(k.ceil_mode), "False"},
                                {"count_include_pad", py_bool(k.count_include_pad), "True"},
                                {"divisor_override", k.divisor_override ? py_int(*k.divisor_override) : "None", "None"}});
            if (k.norm_type > 0)
              return call(nn_name(op), {{"", py_float(k.norm_type), ""},
                                        {"", py_dims(k.kernel_size), ""},
                                        {"stride", py_dims(k.stride), py_dims(k.kernel_size)},
                                        {"ceil_mode", py_bool(k.ceil_mode), py_default(op, "ceil_mode")}});
            return call(nn_name(op), {{"", py_dims(k.kernel_size), ""},
                                      {"stride", py_dims(k.stride), py_dims(k.kernel_size)},
                                      {"padding", py_dims(k.padding), py_default(op, "padding")},
                                      {"ceil_mode", py_bool(k.ceil_mode), py_default(op, "ceil_mode")},
                                      {"count_include_pad", py_bool(k.count_include_pad), py_default(op, "count_include_pad")},
                                      {"divisor_override", k.divisor_override ? py_int(*k.divisor_override) : "None",
                                       "None"}});
          },
          [&](const AdaptiveAvgPool& k) { return adaptive_expr(nn_name(op), k.output_size); },
          [&](const AdaptiveMaxPool& k) { return adaptive_expr(nn_name(op), k.output_size); },
          [&](const Flatten& k) {
            return call("nn.Flatten", {{"start_dim", py_int(k.start_dim), py_default(op, "start_dim")}, {"end_dim", py_int(k.end_dim), py_default(op, "end_dim")}});
          },
          [&](const Linear& k) {
            return call("nn.Linear", {{"", py_int(k.in_features.value_or(in.empty() ? 0 : in.back())), ""},
                                      {"", py_int(k.out_features), ""},
                                      {"bias", py_bool(k.bias), py_default(op, "bias")}});
          },
          [&](const Dropout& k) {
            if (k.stochastic) {  // torchvision's module: p and mode have no defaults
              helpers.insert("torchvision");
              return call("torchvision.ops.StochasticDepth", {{"p", py_float(k.p), ""},
                                                              {"mode", py_str(k.row_mode ? "row" : "batch"), ""}});
            }
            return call(nn_name(op), {{"p", py_float(k.p), py_default(op, "p")}, {"inplace", py_bool(k.inplace), py_default(op, "inplace")}});
          },
          [&](const Merge& k) {
            helpers.insert("Merge");
            return call("Merge", {{"", py_str(merge_name(k.op)), ""},
                                  {"dim", py_int(k.dim), k.op == MergeOp::cat ? "1" : py_int(k.dim)},
                                  {"crop", py_bool(k.crop), "False"}});  // the Merge helper's own signature
          },
          [&](const Pointwise& k) {
            const PointwiseKind& pk = pointwise_kind(k.fn);
            std::vector<Arg> args;
            for (std::size_t i = 0; i < pk.args.size(); ++i)
              args.push_back({k.fn == Fn::threshold ? "" : pk.args[i].first, py_float(k.args[i]),
                              k.fn == Fn::threshold ? "" : py_float(pk.args[i].second)});
            if (k.fn == Fn::gelu) args.push_back({"approximate", k.tanh_gelu ? "\"tanh\"" : "\"none\"", py_default(op, "approximate")});
            if (pk.inplace) args.push_back({"inplace", py_bool(k.inplace), py_default(op, "inplace")});
            return call(nn_name(op), args);
          },
          [&](const Upsample& k) {
            if (k.size_from) {
              helpers.insert("InterpolateTo");
              return call("InterpolateTo", {{"mode", py_str(interp_name(k.mode)), "\"nearest\""},
                                            {"align_corners", k.align_corners ? py_bool(*k.align_corners) : "None", "None"}});
            }
            std::vector<Arg> args;
            if (!k.size.empty()) args.push_back({"size", k.size.size() == 1 ? py_int(k.size[0]) : py_tuple(k.size), ""});
            if (!k.scale.empty()) {
              std::vector<std::string> s;
              for (double x : k.scale) s.push_back(py_float(x));
              args.push_back({"scale_factor", s.size() == 1 ? s[0] : fmt::format("({})", fmt::join(s, ", ")), ""});
            }
            if (k.kind == 0) {
              args.push_back({"mode", py_str(interp_name(k.mode)), py_default(op, "mode")});
              if (k.align_corners) args.push_back({"align_corners", py_bool(*k.align_corners), ""});
            }
            return call(nn_name(op), args);
          },
          [&](const Pad& k) {
            if (k.to_other) {  // F.pad(x1, [diffX // 2, diffX - diffX // 2, …])
              helpers.insert("PadTo");
              std::vector<Arg> args{{"", py_int(k.rank), ""}};
              if (!k.zero && k.value != 0) args.push_back({"value", py_float(k.value), ""});
              return call("PadTo", args);
            }
            // ZeroPad1d and ZeroPad3d arrived in PyTorch 2.1: ConstantPad with 0 is the same layer.
            bool as_constant = k.zero && k.rank != 2;
            std::string head = as_constant ? fmt::format("nn.ConstantPad{}d", k.rank) : nn_name(op);
            std::vector<Arg> args{{"", py_dims(k.pads), ""}};
            if ((k.mode == PadMode::constant && !k.zero) || as_constant) args.push_back({"", py_float(k.value), ""});
            return call(head, args);
          },
          [&](const PixelShuffle& k) { return call(nn_name(op), {{"", py_int(k.factor), ""}}); },
          [&](const ChannelShuffle& k) { return call("nn.ChannelShuffle", {{"", py_int(k.groups), ""}}); },
          [&](const InstanceNorm& k) {
            return call(nn_name(op), {{"", py_int(k.num_features.value_or(channels)), ""},
                                      {"eps", py_float(k.eps), py_default(op, "eps")},
                                      {"momentum", py_float(k.momentum), py_default(op, "momentum")},
                                      {"affine", py_bool(k.affine), py_default(op, "affine")},
                                      {"track_running_stats", py_bool(k.track_running_stats), py_default(op, "track_running_stats")}});
          },
          [&](const GroupNorm& k) {
            return call("nn.GroupNorm", {{"", py_int(k.num_groups), ""},
                                         {"", py_int(k.num_channels.value_or(channels)), ""},
                                         {"eps", py_float(k.eps), py_default(op, "eps")},
                                         {"affine", py_bool(k.affine), py_default(op, "affine")}});
          },
          [&](const LayerNorm& k) {
            std::string shape = k.normalized_shape.size() == 1 ? py_int(k.normalized_shape[0])
                                                               : fmt::format("[{}]", fmt::join(k.normalized_shape, ", "));
            return call("nn.LayerNorm", {{"", shape, ""},
                                         {"eps", py_float(k.eps), py_default(op, "eps")},
                                         {"elementwise_affine", py_bool(k.elementwise_affine), py_default(op, "elementwise_affine")},
                                         {"bias", py_bool(k.bias), py_default(op, "bias")}});  // bias=False: PyTorch 2.1+
          },
          [&](const LocalResponseNorm& k) {
            return call("nn.LocalResponseNorm", {{"", py_int(k.size), ""},
                                                 {"alpha", py_float(k.alpha), py_default(op, "alpha")},
                                                 {"beta", py_float(k.beta), py_default(op, "beta")},
                                                 {"k", py_float(k.k), py_default(op, "k")}});
          },
          [&](const PReLU& k) {
            return call("nn.PReLU", {{"num_parameters", py_int(k.num_parameters), py_default(op, "num_parameters")},
                                     {"init", py_float(k.init), py_default(op, "init")}});
          },
          [&](const Softmax& k) {
            if (k.which == Softmax::softmax2d || !k.dim) return call(nn_name(op), {});
            return call(nn_name(op), {{"dim", py_int(*k.dim), ""}});
          },
          [&](const Unflatten& k) {
            return call("nn.Unflatten", {{"", py_int(k.dim), ""}, {"", py_tuple(k.sizes), ""}});
          },
          [&](const Narrow& k) {
            helpers.insert("Narrow");
            return call("Narrow", {{"", py_int(k.dim), ""}, {"", py_int(k.start), ""}, {"", py_int(k.length), ""}});
          },
          [&](const GLU& k) { return call("nn.GLU", {{"dim", py_int(k.dim), py_default(op, "dim")}}); },
          [&](const Permute& k) {
            helpers.insert(k.name());
            if (k.transpose) return call("Transpose", {{"", py_int(k.dim0), ""}, {"", py_int(k.dim1), ""}});
            std::vector<Arg> dims;
            for (int64_t d : k.dims) dims.push_back({"", py_int(d), ""});
            return call("Permute", dims);
          },
          [&](const Squeeze& k) {
            helpers.insert("TensorMethod");
            std::vector<Arg> a{{"", py_str(k.unsqueeze ? "unsqueeze" : "squeeze"), ""}};
            if (k.dim) a.push_back({"", py_int(*k.dim), ""});
            return call("TensorMethod", a);
          },
          [&](const Select& k) {
            helpers.insert("TensorMethod");
            return call("TensorMethod", {{"", py_str("select"), ""}, {"", py_int(k.dim), ""}, {"", py_int(k.index), ""}});
          },
          [&](const Reduce& k) {
            helpers.insert("TensorMethod");
            const char* m = k.op == Reduce::mean ? "mean" : k.op == Reduce::sum ? "sum" : "amax";
            return call("TensorMethod", {{"", py_str(m), ""},
                                         {"", k.dims.size() == 1 ? py_int(k.dims[0]) : py_tuple(k.dims), ""},
                                         {"keepdim", k.keepdim ? "True" : "False", "False"}});
          },
          [&](const Embedding& k) {
            return call("nn.Embedding", {{"", py_int(k.num_embeddings), ""}, {"", py_int(k.embedding_dim), ""},
                                         {"padding_idx", k.padding_idx ? py_int(*k.padding_idx) : "None", "None"},
                                         {"max_norm", k.max_norm ? py_float(*k.max_norm) : "None", "None"},
                                         {"norm_type", py_float(k.norm_type), py_default(op, "norm_type")},
                                         {"scale_grad_by_freq", py_bool(k.scale_grad_by_freq), "False"},
                                         {"sparse", py_bool(k.sparse), "False"}});
          },
          [&](const Parameter& k) {
            helpers.insert("LearnedTensor");
            std::vector<Arg> a;
            for (int64_t d : k.shape) a.push_back({"", py_int(d), ""});
            return call("LearnedTensor", a);
          },
          [&](const Expand& k) {
            if (k.as_other) {  // x.expand_as(y)
              helpers.insert("ExpandAs");
              return call("ExpandAs", {});
            }
            if (!k.from_dim.empty()) {
              helpers.insert("ExpandFrom");
              std::vector<std::string> sizes, dims;
              for (std::size_t i = 0; i < k.sizes.size(); ++i) {
                sizes.push_back(k.from_dim[i] ? "None" : py_int(k.sizes[i]));
                dims.push_back(k.from_dim[i] ? py_int(*k.from_dim[i]) : "None");
              }
              return call("ExpandFrom", {{"", py_list_tuple(sizes), ""}, {"", py_list_tuple(dims), ""}});
            }
            helpers.insert("TensorMethod");
            std::vector<Arg> a{{"", py_str("expand"), ""}};
            for (int64_t s : k.sizes) a.push_back({"", py_int(s), ""});
            return call("TensorMethod", a);
          },
          [&](const Roll& k) {
            helpers.insert("TensorMethod");
            std::vector<Arg> a{{"", py_str("roll"), ""}, {"", k.shifts.size() == 1 ? py_int(k.shifts[0]) : py_tuple(k.shifts), ""}};
            if (!k.dims.empty()) a.push_back({"", py_tuple(k.dims), ""});
            return call("TensorMethod", a);
          },
          [&](const Reshape& k) {
            if (!k.from_dim.empty()) {  // y.view(b, c, 1, 1) with b, c, _, _ = x.size()
              helpers.insert("ReshapeFrom");
              std::vector<std::string> sizes, dims;
              for (std::size_t i = 0; i < k.shape.size(); ++i) {
                sizes.push_back(k.from_dim[i] ? "None" : py_int(k.shape[i]));
                dims.push_back(k.from_dim[i] ? py_int(*k.from_dim[i]) : "None");
              }
              return call("ReshapeFrom", {{"", py_str(k.view ? "view" : "reshape"), ""}, {"", py_list_tuple(sizes), ""},
                                          {"", py_list_tuple(dims), ""}});
            }
            helpers.insert(k.name());
            std::vector<Arg> sizes;
            for (int64_t d : k.shape) sizes.push_back({"", py_int(d), ""});
            return call(k.name(), sizes);
          },
          [&](const Slice& k) {
            helpers.insert("Slice");
            auto bound = [](std::optional<int64_t> v) { return v ? py_int(*v) : std::string("None"); };
            return call("Slice", {{"", py_int(k.dim), ""}, {"", bound(k.start), ""}, {"", bound(k.end), ""},
                                  {"", py_int(k.step), ""}});
          },
          [&](const Chunk& k) {
            helpers.insert("Chunk");
            return call("Chunk", {{"", py_int(k.chunks), ""}, {"", py_int(k.index), ""}, {"dim", py_int(k.dim), ""}});
          },
      },
      op);
}


// ---- the exporter -------------------------------------------------------

// A constructor parameter of a block's class: the block's own parameter,
// `in_channels` (the input's channels, as the seed's `inchannel`), or one
// found where the uses differ in a way no parameter explains.
struct Param {
  std::string py;                   // its Python name
  std::optional<std::string> dflt;  // Python text; nullopt: required
  std::vector<std::string> values;  // per use
  bool used = false;
};

struct BlockClass {
  enum State { todo, busy, done, none } state = todo;
  std::string name;
  std::vector<Param> params;         // in signature order once done
  std::map<const Node*, std::size_t> use;  // a use's index into Param::values
};

class Exporter {
 public:
  Exporter(const Spec& spec, const Evaluation& ev) : spec_(spec), ev_(ev) {}

  ExportResult run(const std::string& source) {
    collect(spec_.layers);
    if (!error_.empty()) return {{}, error_, error_layer_};
    std::string net = class_name(spec_.name.empty() ? "net" : spec_.name);
    while (taken_.count(net)) net += "Net";
    taken_.insert(net);
    std::string top = list_class(spec_.layers, "", net, spec_.description, true);
    if (!error_.empty()) return {{}, error_, error_layer_};
    return {header(source) + helpers_text() + classes_ + top + main_text(net), {}, {}};
  }

 private:
  const Spec& spec_;
  const Evaluation& ev_;
  std::string error_, error_layer_;
  // Module-level names: the helpers', the imports', and Python's constants (a
  // spec named "none" is class None_, not `class None`).
  std::set<std::string> helpers_, taken_{"Branches", "Merge", "Narrow", "Slice", "Chunk", "Permute", "Transpose",
                                                     "Reshape", "View", "TensorMethod", "LearnedTensor", "ExpandFrom",
                                                     "ReshapeFrom", "ExpandAs", "PoolFrom", "PadTo", "InterpolateTo", "OrderedDict", "torchvision", "None", "True", "False"};
  std::map<std::string, std::vector<const Node*>> uses_;  // block -> every use, in spec order
  std::map<std::string, BlockClass> blocks_;
  std::map<const Node*, std::string> list_classes_;  // Sequentials with skips, written once
  std::set<std::string> shared_targets_;  // modules some `shares` layer calls again
  std::map<std::string, std::pair<std::string, std::string>> shared_vars_;  // module -> (variable, scope)
  std::string scope_;  // the class whose __init__ is being written
  std::string classes_;  // the block and list classes, each after those it uses
  bool ordered_dict_ = false;

  // Every named module's value (graph.h), built once.
  const std::map<std::string, int>& value_by_name() {
    if (value_by_name_.empty())
      for (const auto& m : spec_.graph.modules) value_by_name_.emplace(spec_.graph.module_name(m), m.value);
    return value_by_name_;
  }
  std::map<std::string, int> value_by_name_;

  // The value a list reads, by its first layer's name: the input of the
  // first node evaluated under that name (-1 when that node reads `from` or nothing).
  int list_input(const std::string& first) {
    if (first_node_.empty())
      for (std::size_t i = 0; i < spec_.graph.nodes.size(); ++i) {
        const std::string& name = spec_.graph.nodes[i].name;
        for (std::size_t dot = name.find('.'); ; dot = name.find('.', dot + 1)) {
          first_node_.emplace(name.substr(0, dot), i);
          if (dot == std::string::npos) break;
        }
      }
    auto it = first_node_.find(first);
    if (it == first_node_.end()) return -1;
    const GraphNode& n = spec_.graph.nodes[it->second];
    return n.has_from || n.inputs.empty() ? -1 : n.inputs[0].value;
  }
  std::map<std::string, std::size_t> first_node_;

  bool fail(std::string message, const std::string& layer) {
    if (error_.empty()) error_ = std::move(message), error_layer_ = layer;
    return false;
  }

  // Every block's uses; names PyTorch cannot hold as modules are refused here.
  void collect(const Layers& layers) {
    for (const auto& n : layers) {
      std::string local = n.name.substr(n.name.rfind('.') + 1);
      if (is_module_attribute(local))
        fail(fmt::format("`{}` is an attribute of every nn.Module, so PyTorch cannot hold a layer by that name; "
                         "rename the layer", local), n.name);
      if (!n.instance_of.empty()) uses_[n.instance_of].push_back(&n);
      if (auto* sh = std::get_if<Shared>(&n.kind)) {
        std::string target = sh->module;
        for (const Node* t = find_node(spec_.layers, target); t && std::holds_alternative<Shared>(t->kind);
             t = find_node(spec_.layers, target))
          target = std::get<Shared>(t->kind).module;
        shared_targets_.insert(target);
      }
      if (auto* s = std::get_if<Sequential>(&n.kind)) collect(s->layers);
      if (auto* b = std::get_if<Branches>(&n.kind)) {
        for (const auto& br : b->branches) {
          if (is_module_attribute(br.name)) fail(fmt::format("a branch cannot be named `{}` in PyTorch", br.name), n.name);
          collect(br.layers);
        }
        collect(b->after);
      }
    }
  }

  // The input of a layer or container: its first leaf's, or a merge's first.
  Shape input_of(const Node& n) const {
    if (auto* s = std::get_if<Sequential>(&n.kind))
      if (!s->layers.empty() && s->layers[0].from.empty()) return input_of(s->layers[0]);
    if (auto* b = std::get_if<Branches>(&n.kind))
      for (const auto& br : b->branches)
        if (!br.layers.empty() && br.layers[0].from.empty()) return input_of(br.layers[0]);
    const Row* r = find_row(ev_, n.name);
    return r ? r->input : Shape{};
  }

  // ---- expressions --------------------------------------------------------

  // `shares`: the variable the module was bound to where it was made; both
  // must be in the same __init__ (one class), as Python's scoping needs.
  std::shared_ptr<Expr> shared_expr(const Node& n, const Shared& s) {
    std::string target = s.module;
    for (const Node* t = find_node(spec_.layers, target); t && std::holds_alternative<Shared>(t->kind);
         t = find_node(spec_.layers, target))
      target = std::get<Shared>(t->kind).module;
    auto it = shared_vars_.find(target);
    if (it == shared_vars_.end() || it->second.second != scope_) {
      fail(fmt::format("`{}` shares `{}`, which is written in another class; export writes a shared module "
                       "within one class (one __init__) only", n.name, target),
           n.name);
      return std::make_shared<Expr>();
    }
    auto e = std::make_shared<Expr>();
    e->style = Expr::name;
    e->head = it->second.first;
    return e;
  }

  // Binds the expression of a module some `shares` layer uses again.
  std::shared_ptr<Expr> bound(const Node& n, std::shared_ptr<Expr> e) {
    if (!shared_targets_.count(n.name)) return e;
    std::string var = python_name("shared_" + n.name, [&](const std::string& v) {
      for (const auto& [name, entry] : shared_vars_)
        if (entry.first == v && name != n.name) return true;
      return taken_.count(v) > 0;
    });
    shared_vars_[n.name] = {var, scope_};
    e->bind = var;
    return e;
  }

  std::shared_ptr<Expr> expr_of(const Node& n) { return bound(n, expr_unbound(n)); }

  std::shared_ptr<Expr> expr_unbound(const Node& n) {
    if (auto* sh = std::get_if<Shared>(&n.kind)) return shared_expr(n, *sh);
    if (!n.instance_of.empty())
      if (const BlockClass* c = block_class(n.instance_of)) return std::make_shared<Expr>(use_call(*c, n));
    if (auto* s = std::get_if<Sequential>(&n.kind)) {
      for (const auto& child : s->layers)
        if (!child.from.empty() || !child.size_from.empty()) {  // skips inside: a class with its own forward()
          std::string& name = list_classes_[&n];
          if (name.empty()) {
            name = class_name(n.name);
            while (taken_.count(name)) name += "_";
            taken_.insert(name);
            classes_ += list_class(s->layers, n.name, name, "", false);
          }
          return std::make_shared<Expr>(call(name, {}));
        }
      return list_expr(s->layers, n.name);
    }
    if (auto* b = std::get_if<Branches>(&n.kind)) return branches_expr(n, *b);
    const Row* r = find_row(ev_, n.name);
    return std::make_shared<Expr>(leaf_expr(*leaf_op(n.kind), r ? r->input : Shape{}, helpers_));
  }

  // A list of layers without skips: an nn.Sequential.
  std::shared_ptr<Expr> list_expr(const Layers& layers, const std::string& prefix) {
    auto e = std::make_shared<Expr>();
    e->style = Expr::sequential;
    e->head = "nn.Sequential";
    for (const auto& child : layers) {
      if (!child.from.empty() || !child.size_from.empty())
        fail(fmt::format("`{}` takes `from` inside a branch; export writes `from` between the layers of a list "
                         "(the network's, or a Sequential's) only", child.name), child.name);
      e->kids.push_back({child.name.substr(prefix.size() + 1), expr_of(child)});
    }
    if (named_kids(*e)) ordered_dict_ = true;
    return e;
  }

  // The branches (nullptr for an empty one) and `after` of a Branches.
  std::vector<Kid> branch_kids(const Node& n, const Branches& b) {
    std::vector<Kid> kids;
    for (const auto& br : b.branches) {
      kids.push_back({br.name, br.layers.empty() ? nullptr : list_expr(br.layers, n.name + "." + br.name)});
      if (!b.merged) break;
    }
    kids.push_back({"after", b.after.empty() ? nullptr : list_expr(b.after, n.name + ".after")});
    return kids;
  }

  std::shared_ptr<Expr> branches_expr(const Node& n, const Branches& b) {
    helpers_.insert("Branches");
    auto e = std::make_shared<Expr>();
    e->style = Expr::branches;
    e->head = "Branches";
    e->args = {{"", py_str(merge_name(b.merge.op)), ""},
               {"dim", py_int(b.merge.dim), "1"},
               {"crop", py_bool(b.merge.crop), "False"},
               {"merged", py_bool(b.merged), "True"},
               {"", b.after.empty() ? "False" : "True", ""}};  // render(): whether the last kid is `after`
    e->args.back().omit = true;
    e->kids = branch_kids(n, b);
    if (b.after.empty()) e->kids.pop_back();
    return e;
  }

  // ---- one class per block --------------------------------------------------

  const BlockClass* block_class(const std::string& block) {
    BlockClass& c = blocks_[block];
    if (c.state == BlockClass::todo) {
      c.state = BlockClass::busy;  // a block that uses itself is written out, not as a class
      bool ok = build_class(block, c);
      c.state = ok ? BlockClass::done : BlockClass::none;
    }
    return c.state == BlockClass::done ? &c : nullptr;
  }

  Expr use_call(const BlockClass& c, const Node& n) const {
    std::size_t i = c.use.at(&n);
    Expr e = call(c.name, {});
    for (const auto& p : c.params) e.args.push_back({p.dflt ? p.py : "", p.values[i], p.dflt.value_or("")});
    return e;
  }

  // What a use of a block holds, attribute by attribute: nullptr where absent.
  struct Attrs {
    std::string shape;  // root kind and, for Branches, the merge and branch names
    std::vector<Kid> kids;
  };
  std::optional<Attrs> attrs_of(const Node& n) {
    if (auto* s = std::get_if<Sequential>(&n.kind)) {
      Attrs a{"seq", {}};
      for (const auto& child : s->layers) {
        if (!child.from.empty()) return std::nullopt;
        a.kids.push_back({child.name.substr(n.name.size() + 1), expr_of(child)});
        a.shape += "," + a.kids.back().name;
      }
      return a;
    }
    if (auto* b = std::get_if<Branches>(&n.kind)) {
      Attrs a{fmt::format("branches:{}:{}:{}:{}", merge_name(b->merge.op), b->merge.dim, b->merge.crop, b->merged), {}};
      for (const auto& br : b->branches) a.shape += "," + br.name;
      a.kids = branch_kids(n, *b);
      return a;
    }
    return Attrs{"leaf", {{"", expr_of(n)}}};
  }

  // What a varying argument may be named after: the block's parameters
  // (each use's value as Python text), then the input's channels.
  struct Candidates {
    std::vector<Param> params;
    Param in_channels{"in_channels", std::nullopt, {}, false};
    std::vector<Param> own;  // parameters of its own, made as needed
  };
  Candidates candidates(const BlockDef& def, const std::vector<const Node*>& uses) const {
    Candidates c;
    for (const auto& [name, dflt] : def.params) {
      auto taken = [&](const std::string& n) {
        if (n == "in_channels" || n == "x" || taken_.count(n)) return true;
        for (const auto& q : c.params)
          if (q.py == n) return true;
        return false;
      };
      Param p{python_name(name, taken), dflt ? std::optional(py_literal(json::parse(*dflt))) : std::nullopt, {}, false};
      for (const Node* n : uses) {
        std::string v = "None";
        for (const auto& [key, value] : n->block_args)
          if (key == name) v = py_literal(json::parse(value));
        p.values.push_back(v);
      }
      c.params.push_back(std::move(p));
    }
    for (const Node* n : uses) {
      Shape in = input_of(*n);
      c.in_channels.values.push_back(in.size() > 1 ? py_int(in[1]) : "None");
    }
    return c;
  }

  // Attribute k of every use as one expression: each argument resolved
  // (resolve()); nullopt when the uses differ in structure. `cond` gets ""
  // when every use has it, else the condition under which it exists.
  std::optional<std::shared_ptr<Expr>> unify(std::vector<Attrs>& attrs, std::size_t k, Candidates& c,
                                             std::string& cond) {
    const std::size_t n = attrs.size();
    const std::string& name = attrs[0].kids[k].name;
    std::vector<std::size_t> present;
    for (std::size_t i = 0; i < n; ++i)
      if (attrs[i].kids[k].expr) present.push_back(i);
    cond.clear();
    if (present.empty()) return std::shared_ptr<Expr>();  // never there: an empty branch in every use
    std::vector<std::vector<Arg*>> slots(n);
    std::string shape0;
    for (std::size_t i : present) {
      std::string shape;
      skeleton(*attrs[i].kids[k].expr, shape, slots[i]);
      if (i == present[0]) shape0 = shape;
      else if (shape != shape0) return std::nullopt;
    }
    auto e = deep_copy(*attrs[present[0]].kids[k].expr);
    std::vector<Arg*> out;
    std::string ignored;
    skeleton(*e, ignored, out);
    for (std::size_t s = 0; s < out.size(); ++s) {
      std::vector<std::string> vals(n);
      bool all_default = true;
      for (std::size_t i : present) {
        vals[i] = slots[i][s]->value;
        all_default = all_default && !slots[i][s]->shown();
      }
      // Its name if it needs a parameter of its own: "padding", else "conv.padding".
      std::string what = name + (name.empty() ? "" : ".") + (out[s]->key.empty() ? "arg" + std::to_string(s) : out[s]->key);
      out[s]->value = resolve(vals, present, c.params, c.in_channels, c.own, what);
      out[s]->omit = all_default;
      out[s]->dflt.clear();
    }
    if (present.size() < n) {
      std::vector<std::string> has(n, "False");
      for (std::size_t i : present) has[i] = "True";
      cond = condition(has, c.params, c.own, "with_" + identifier(name));
    }
    return e;
  }

  // Unifies the uses of `block` into one class: an argument that is the same
  // in every use is written as it is; one that varies is the block parameter
  // (or the input's channels) that has the same value in every use; else a
  // parameter of its own. A part present in some uses only is conditional.
  bool build_class(const std::string& block, BlockClass& cls) {
    Scope scope(*this, "block " + block);
    const auto& uses = uses_[block];
    const BlockDef* def = nullptr;
    for (const auto& d : spec_.blocks)
      if (d.name == block) def = &d;
    if (!def || uses.empty()) return false;
    std::vector<Attrs> attrs;
    for (const Node* n : uses) {
      auto a = attrs_of(*n);
      if (!a || (!attrs.empty() && (a->shape != attrs[0].shape || a->kids.size() != attrs[0].kids.size())))
        return false;
      attrs.push_back(std::move(*a));
    }
    if (!error_.empty()) return false;
    Candidates c = candidates(*def, uses);
    std::vector<std::string> conds(attrs[0].kids.size());
    std::vector<std::shared_ptr<Expr>> merged;
    for (std::size_t k = 0; k < attrs[0].kids.size(); ++k) {
      auto e = unify(attrs, k, c, conds[k]);
      if (!e) return false;
      merged.push_back(*e);
    }
    cls.name = class_name(block);
    while (taken_.count(cls.name)) cls.name += "_";
    taken_.insert(cls.name);
    // Signature: in_channels, the required ones, then those with defaults.
    if (c.in_channels.used) cls.params.push_back(c.in_channels);
    for (auto& p : c.params)
      if (p.used && !p.dflt) cls.params.push_back(p);
    for (auto& p : c.own) cls.params.push_back(p);
    for (auto& p : c.params)
      if (p.used && p.dflt) cls.params.push_back(p);
    for (std::size_t i = 0; i < uses.size(); ++i) cls.use[uses[i]] = i;
    classes_ += class_text(cls, *def, attrs[0], merged, conds, *uses[0]);
    return true;
  }

  std::string resolve(const std::vector<std::string>& vals, const std::vector<std::size_t>& present,
                      std::vector<Param>& params, Param& in_channels, std::vector<Param>& own,
                      const std::string& what) {
    auto matches = [&](const Param& p) {
      for (std::size_t i : present)
        if (p.values[i] != vals[i]) return false;
      return true;
    };
    bool same = true;
    for (std::size_t i : present) same = same && vals[i] == vals[present[0]];
    if (same) return vals[present[0]];
    for (auto& p : params)
      if (matches(p)) { p.used = true; return p.py; }
    if (matches(in_channels)) { in_channels.used = true; return "in_channels"; }
    for (auto& p : own)
      if (matches(p)) return p.py;
    std::string name = fresh(what.substr(what.rfind('.') + 1), params, own);
    if (name != python_name(what.substr(what.rfind('.') + 1), [](const std::string&) { return false; }))
      name = fresh(what, params, own);
    Param p{name, std::nullopt, vals, true};
    for (auto& v : p.values)
      if (v.empty()) v = "None";
    own.push_back(p);
    return name;
  }

  // A parameter name not yet taken: the argument's own ("padding") when free.
  std::string fresh(const std::string& want, const std::vector<Param>& params, const std::vector<Param>& own) const {
    return python_name(want, [&](const std::string& n) {
      if (n == "in_channels" || n == "x" || taken_.count(n)) return true;
      for (const auto* list : {&params, &own})
        for (const auto& p : *list)
          if (p.py == n) return true;
      return false;
    });
  }

  std::string condition(const std::vector<std::string>& has, std::vector<Param>& params, std::vector<Param>& own,
                        const std::string& what) {
    auto negated = [](const std::string& v) { return v == "True" ? "False" : "True"; };
    for (auto& p : params) {
      bool yes = true, no = true;
      for (std::size_t i = 0; i < has.size(); ++i) {
        yes = yes && p.values[i] == has[i];
        no = no && p.values[i] == negated(has[i]);
      }
      if (yes || no) { p.used = true; return (no ? "not " : "") + p.py; }
    }
    std::string name = fresh(what, params, own);
    own.push_back({name, std::nullopt, has, true});
    return name;
  }

  // ---- Python text of classes ---------------------------------------------

  static std::string attr_ref(const std::string& name) {
    return is_identifier(name) ? "self." + name : "getattr(self, " + py_str(name) + ")";
  }
  static std::string assign(const std::string& name, const std::string& value) {
    return is_identifier(name) ? "        self." + name + " = " + value + "\n"
                               : "        self.add_module(" + py_str(name) + ", " + value + ")\n";
  }
  // Every quote, backslash and control escaped: a description can never end
  // the docstring early (`"""`, a trailing `"`) nor hold a NUL.
  static std::string docstring(const std::string& text, int indent) {
    if (text.empty()) return "";
    return indent_text(indent) + "\"\"\"" + python_escape(text, true) + "\"\"\"\n\n";
  }

  std::string signature(const BlockClass& c) const {
    std::vector<std::string> ps;
    for (const auto& p : c.params) ps.push_back(p.dflt ? p.py + "=" + *p.dflt : p.py);
    return fmt::format("{}", fmt::join(ps, ", "));
  }

  std::string class_text(const BlockClass& c, const BlockDef& def, const Attrs& shape,
                         const std::vector<std::shared_ptr<Expr>>& kids, const std::vector<std::string>& conds,
                         const Node& first) {
    std::string sig = signature(c);
    std::string self_sig = sig.empty() ? "self" : "self, " + sig;
    if (shape.shape == "leaf")  // a block that is one layer: a function returning it
      return fmt::format("\n\ndef {}({}):\n{}    return {}\n", c.name, sig, docstring(def.description, 4),
                         render(*kids[0], 4));
    if (shape.shape.rfind("seq", 0) == 0) {
      Expr seq{Expr::sequential, "nn.Sequential", {}, {}};
      for (std::size_t k = 0; k < kids.size(); ++k) seq.kids.push_back({shape.kids[k].name, kids[k]});
      if (named_kids(seq)) ordered_dict_ = true;
      std::string body = render(seq, 8);
      body = body.substr(std::string("nn.Sequential(").size());  // super().__init__(…) takes the same
      return fmt::format("\n\nclass {}(nn.Sequential):\n{}    def __init__({}):\n        super().__init__({}\n",
                         c.name, docstring(def.description, 4), self_sig, body);
    }
    const auto& b = std::get<Branches>(first.kind);
    std::string init, terms;
    std::vector<std::string> ins;
    for (std::size_t k = 0; k < kids.size(); ++k) {
      const std::string& name = shape.kids[k].name;
      bool after = k + 1 == kids.size();
      if (!kids[k]) {
        if (!after) ins.push_back("x");
        continue;
      }
      std::string value = render(*kids[k], 8);
      if (!conds[k].empty()) value += " if " + conds[k] + " else None";
      init += assign(name, value);
      std::string ref = attr_ref(name);
      if (after) continue;
      ins.push_back(conds[k].empty() ? ref + "(x)" : "(x if " + ref + " is None else " + ref + "(x))");
    }
    std::string y;
    if (!b.merged || ins.size() == 1) y = ins[0];
    else if (b.merge.crop) {
      helpers_.insert("merge");
      y = fmt::format("merge({}, [{}], {}, crop=True)", py_str(merge_name(b.merge.op)), fmt::join(ins, ", "), b.merge.dim);
    } else if (b.merge.op == MergeOp::cat) {
      y = fmt::format("torch.cat([{}], {})", fmt::join(ins, ", "), b.merge.dim);
    } else {
      y = fmt::format("{}", fmt::join(ins, b.merge.op == MergeOp::add ? " + " : b.merge.op == MergeOp::matmul ? " @ " : " * "));
    }
    std::string ret = "y";
    if (kids.back()) {
      std::string ref = attr_ref("after");
      ret = conds.back().empty() ? ref + "(y)" : "y if " + ref + " is None else " + ref + "(y)";
    }
    return fmt::format("\n\nclass {}(nn.Module):\n{}    def __init__({}):\n        super().__init__()\n{}\n"
                       "    def forward(self, x):\n        y = {}\n        return {}\n",
                       c.name, docstring(def.description, 4), self_sig, init, y, ret);
  }

  // A list of layers with skips (`from`), as a class: the network's own, or
  // a Sequential whose layers read earlier ones.
  // The class whose __init__ expressions are being made, for `shares`.
  struct Scope {
    Exporter& e;
    std::string saved;
    Scope(Exporter& ex, const std::string& name) : e(ex), saved(ex.scope_) { e.scope_ = name; }
    ~Scope() { e.scope_ = saved; }
  };

  std::string list_class(const Layers& layers, const std::string& owner, const std::string& name,
                         const std::string& doc, bool top) {
    Scope scope(*this, "class " + name);
    std::set<std::string> siblings, wanted, vars{"x", "inp"};
    std::map<std::string, std::string> var, alias;
    std::map<int, std::string> sibling_of;  // value -> the sibling that writes it
    auto prefix = owner.empty() ? std::string() : owner + ".";
    auto want = [&](const std::string& ref, const std::string& layer) {
      if ((ref == "input" && top) || siblings.count(ref)) return wanted.insert(ref), true;
      // A layer inside a sibling whose output is the sibling's (its last
      // layer, as `netshape import` names it): the sibling's variable.
      auto v = value_by_name().find(ref);
      if (auto s = v == value_by_name().end() ? sibling_of.end() : sibling_of.find(v->second); s != sibling_of.end())
        return alias[ref] = s->second, wanted.insert(s->second), true;
      // The list's own input (a residual block's add reads what entered it): forward()'s argument.
      if (v != value_by_name().end() && !layers.empty() && v->second == list_input(layers.front().name))
        return alias[ref] = "input", wanted.insert("input"), true;
      return fail(fmt::format("`{}` reads `{}`, which is not a layer of the same list{}; export writes `from` "
                              "between the layers of one list (the network's, or a Sequential's) only",
                              layer, ref, owner.empty() ? "" : " (`" + owner + "`)"),
                  layer);
    };
    for (const auto& n : layers) {
      for (const auto& ref : n.from) want(ref, n.name);
      if (!n.size_from.empty()) want(n.size_from, n.name);
      siblings.insert(n.name);
      if (auto v = value_by_name().find(n.name); v != value_by_name().end()) sibling_of[v->second] = n.name;
    }
    auto named = [&](const std::string& ref) { return var[alias.count(ref) ? alias[ref] : ref]; };
    if (top)
      for (const auto& ref : spec_.outputs) want(ref, ref);
    for (const auto& ref : wanted) {
      if (ref == "input") { var[ref] = "inp"; continue; }  // forward()'s own argument
      std::string v = python_name(ref.substr(prefix.size()), [&](const std::string& n) { return vars.count(n) > 0; });
      vars.insert(v);
      var[ref] = v;
    }
    std::string init, forward, cur = wanted.count("input") ? "inp" : "x";
    std::string param = cur;
    for (const auto& n : layers) {
      std::string local = n.name.substr(prefix.size());
      auto e = expr_of(n);
      if (!error_.empty()) return "";
      init += assign(local, render(*e, 8));
      std::vector<std::string> ins;
      for (const auto& ref : n.from) ins.push_back(named(ref));
      if (ins.empty()) ins.push_back(cur);
      if (!n.size_from.empty()) ins.push_back(named(n.size_from));  // the tensor whose sizes it reads
      std::string out = var.count(n.name) ? var[n.name] : "x";
      forward += fmt::format("        {} = {}({})\n", out, attr_ref(local), fmt::join(ins, ", "));
      cur = out;
    }
    std::string ret = cur;
    if (top && !spec_.outputs.empty()) {
      std::vector<std::string> outs;
      for (const auto& o : spec_.outputs) outs.push_back(named(o));
      ret = fmt::format("{}", fmt::join(outs, ", "));
    }
    return fmt::format("\n\nclass {}(nn.Module):\n{}    def __init__(self):\n        super().__init__()\n{}\n"
                       "    def forward(self, {}):\n{}        return {}\n",
                       name, docstring(doc, 4), init, param, forward, ret);
  }

  // ---- the file ---------------------------------------------------------------

  std::string header(const std::string& source) const {
    std::string out = fmt::format("\"\"\"{}: written by `netshape export --to pytorch` from {}.\n\n",
                                  python_escape(spec_.name, true), python_escape(source, true));
    out += "Every module's name in named_modules() is its layer's name in `netshape table`,\n"
           "so the table's shapes are what a forward hook on it sees.\n\"\"\"\n";
    if (ordered_dict_) out += "from collections import OrderedDict\n\n";
    out += "import torch\n";
    if (helpers_.count("torchvision")) out += "import torchvision\n";  // torchvision.ops.StochasticDepth
    out += "from torch import nn\n";
    return out;
  }

  std::string helpers_text() const {
    std::string out;
    bool merges = helpers_.count("Branches") || helpers_.count("Merge") || helpers_.count("merge");
    if (merges) out += std::string("\n") + kMergeHelpers;
    if (helpers_.count("Branches")) out += kBranchesHelper;
    if (helpers_.count("Merge")) out += kMergeModule;
    if (helpers_.count("Narrow")) out += kNarrowModule;
    if (helpers_.count("Slice")) out += kSliceModule;
    if (helpers_.count("Chunk")) out += kChunkModule;
    if (helpers_.count("LearnedTensor")) out += kLearnedModule;
    if (helpers_.count("ExpandFrom") || helpers_.count("InterpolateTo")) out += kSizedModules;
    if (helpers_.count("ReshapeFrom")) out += kReshapeFromModule;
    if (helpers_.count("ExpandAs")) out += kExpandAsModule;
    if (helpers_.count("PoolFrom")) out += kPoolFromModule;
    if (helpers_.count("PadTo")) out += kPadToModule;
    if (helpers_.count("Permute")) out += kPermuteModule;
    if (helpers_.count("Transpose")) out += kTransposeModule;
    if (helpers_.count("Reshape")) out += kReshapeModule;
    if (helpers_.count("View")) out += kViewModule;
    if (helpers_.count("TensorMethod")) out += kTensorMethodModule;
    return out;
  }

  std::string main_text(const std::string& net) const {
    std::string shapes;
    for (const auto& s : ev_.outputs) shapes += (shapes.empty() ? "" : " and ") + format_shape(s);
    std::string out = fmt::format(
        "\n\nif __name__ == \"__main__\":\n    model = {}().eval()\n    with torch.no_grad():\n"
        "        out = model(torch.zeros({}))\n",
        net, fmt::join(spec_.input, ", "));
    if (spec_.outputs.size() > 1)
      out += "    for o in out:\n        print(list(o.shape))";
    else
      out += "    print(list(out.shape))";
    return out + fmt::format("  # netshape's table: {}\n", shapes);
  }
};

}  // namespace

ExportResult export_pytorch(const Spec& spec, const Evaluation& ev, const std::string& source) {
  if (!ev.valid()) return {{}, "the spec does not evaluate: fix its errors first (`netshape check`)", {}};
  return Exporter(spec, ev).run(source);
}

}  // namespace netshape
