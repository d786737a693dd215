#include "torch_net.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include <torch/torch.h>

namespace netshape {
namespace {

namespace nn = torch::nn;
// Each row's real output shape; `on` switches recording off for the
// benchmark's "plain" passes over the very same modules.
struct Recorded {
  bool on = true;
  std::vector<std::optional<Shape>> shapes;
  void record(std::size_t row, const torch::Tensor& t) {
    if (on) shapes[row] = t.sizes().vec();
  }
};


// A spec's list of layers. Not torch::nn::Sequential: that holds its children
// as AnyModule, which needs a non-template forward(), so a Sequential cannot
// hold another Sequential (or this tree's residuals) in LibTorch 1.13.
// Children are registered under their spec names, so named_modules() and
// named_parameters() print netshape's dotted names. It also records each
// leaf's output shape: LibTorch's C++ modules have no forward hooks.
class ChainImpl : public nn::Module {
 public:
  using Factory = std::function<nn::AnyModule(const Shape& input)>;
  ChainImpl(std::shared_ptr<Recorded> rec, std::shared_ptr<std::vector<nn::AnyModule>> leaves)
      : rec_(std::move(rec)), leaves_(std::move(leaves)) {}
  void add(const std::string& name, nn::AnyModule m, std::optional<std::size_t> row) {
    register_module(name, m.ptr());
    children_.push_back({name, std::move(m), row, nullptr});
  }
  // A leaf whose input the evaluator never reached (a --force run past an
  // error): built from the real input on first use, as PyTorch code would be.
  void add_lazy(const std::string& name, Factory make, std::size_t row) {
    children_.push_back({name, nn::AnyModule(), row, std::move(make)});
  }
  bool empty() const { return children_.empty(); }
  torch::Tensor forward(torch::Tensor x) {
    for (auto& c : children_) {
      if (c.module.is_empty()) {
        c.module = c.make(x.sizes().vec());
        register_module(c.name, c.module.ptr());
        (*leaves_)[*c.row] = c.module;
      }
      x = c.module.forward(x);
      if (c.row) rec_->record(*c.row, x);
    }
    return x;
  }
 private:
  struct Child { std::string name; nn::AnyModule module; std::optional<std::size_t> row; Factory make; };
  std::vector<Child> children_;
  std::shared_ptr<Recorded> rec_;
  std::shared_ptr<std::vector<nn::AnyModule>> leaves_;
};
TORCH_MODULE(Chain);

// body(x) + shortcut(x) (identity without one), then `after`.
class AddBlockImpl : public nn::Module {
 public:
  AddBlockImpl(Chain body, Chain shortcut, Chain after, std::size_t row,
               std::shared_ptr<Recorded> rec)
      : body_(register_module("body", body)), row_(row), rec_(std::move(rec)) {
    if (!shortcut->empty()) shortcut_ = register_module("shortcut", shortcut);
    if (!after->empty()) after_ = register_module("after", after);
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor b = body_->forward(x);
    torch::Tensor s = shortcut_ ? (*shortcut_)->forward(x) : x;
    // In place when the shapes agree, like the seed's `out += residual`: it
    // saves an allocation per block. Otherwise out of place, so that a forced
    // run shows what `+` does (PyTorch broadcasts size-1 dims).
    torch::Tensor y = b.sizes() == s.sizes() ? b.add_(s) : b + s;
    rec_->record(row_, y);
    return after_ ? (*after_)->forward(y) : y;
  }
 private:
  Chain body_;
  std::optional<Chain> shortcut_, after_;
  std::size_t row_;
  std::shared_ptr<Recorded> rec_;
};
TORCH_MODULE(AddBlock);

torch::ExpandingArray<2> pair(Pair p) { return torch::ExpandingArray<2>({p.h, p.w}); }

// output_size 0 stands for None: keep that input dim.
torch::ExpandingArrayWithOptionalElem<2> adaptive_size(Pair p) {
  torch::ExpandingArrayWithOptionalElem<2> a({1, 1});
  (*a)[0] = p.h ? c10::optional<int64_t>(p.h) : c10::nullopt;
  (*a)[1] = p.w ? c10::optional<int64_t>(p.w) : c10::nullopt;
  return a;
}

// The module of one leaf layer for a given input shape. in_channels,
// num_features and in_features come from the spec when given (so that a
// mismatch reaches PyTorch as written), else from the input, as a PyTorch
// user would write them.
nn::AnyModule make_leaf(const Node& n, const Shape& in) {
  auto channels = [&](std::optional<int64_t> given, bool last_dim) -> int64_t {
    if (given) return *given;
    if (in.empty()) return 1;
    return last_dim ? in.back() : (in.size() > 1 ? in[1] : 1);
  };
  return std::visit(
      overloaded{
          [&](const Conv2d& k) {
            nn::Conv2dOptions o(channels(k.in_channels, false), k.out_channels, pair(k.kernel_size));
            o.stride(pair(k.stride)).dilation(pair(k.dilation)).groups(k.groups).bias(k.bias);
            if (k.padding_mode == Padding::same) o.padding(torch::kSame);
            else if (k.padding_mode == Padding::valid) o.padding(torch::kValid);
            else o.padding(pair(k.padding));
            return nn::AnyModule(nn::Conv2d(o));
          },
          [&](const BatchNorm2d& k) {
            return nn::AnyModule(nn::BatchNorm2d(nn::BatchNorm2dOptions(channels(k.num_features, false))
                                                     .eps(k.eps).momentum(k.momentum).affine(k.affine)
                                                     .track_running_stats(k.track_running_stats)));
          },
          [&](const ReLU& k) { return nn::AnyModule(nn::ReLU(nn::ReLUOptions(k.inplace))); },
          [&](const MaxPool2d& k) {
            return nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(pair(k.kernel_size))
                                                   .stride(pair(k.stride)).padding(pair(k.padding))
                                                   .dilation(pair(k.dilation)).ceil_mode(k.ceil_mode)));
          },
          [&](const AvgPool2d& k) {
            return nn::AnyModule(nn::AvgPool2d(nn::AvgPool2dOptions(pair(k.kernel_size))
                                                   .stride(pair(k.stride)).padding(pair(k.padding))
                                                   .ceil_mode(k.ceil_mode)
                                                   .count_include_pad(k.count_include_pad)));
          },
          [&](const AdaptiveAvgPool2d& k) {
            return nn::AnyModule(nn::AdaptiveAvgPool2d(adaptive_size(k.output_size)));
          },
          [&](const AdaptiveMaxPool2d& k) {
            return nn::AnyModule(nn::AdaptiveMaxPool2d(adaptive_size(k.output_size)));
          },
          [&](const Flatten& k) {
            return nn::AnyModule(nn::Flatten(nn::FlattenOptions().start_dim(k.start_dim).end_dim(k.end_dim)));
          },
          [&](const Linear& k) {
            return nn::AnyModule(nn::Linear(nn::LinearOptions(channels(k.in_features, true), k.out_features).bias(k.bias)));
          },
          [&](const Dropout& k) { return nn::AnyModule(nn::Dropout(nn::DropoutOptions(k.p).inplace(k.inplace))); },
          [&](const Sequential&) -> nn::AnyModule { throw std::logic_error("not a leaf"); },
          [&](const Residual&) -> nn::AnyModule { throw std::logic_error("not a leaf"); },
      },
      n.kind);
}

// Builds the module tree in the evaluator's row order.
class Builder {
 public:
  explicit Builder(const Evaluation& predicted)
      : rec(std::make_shared<Recorded>()),
        leaves(std::make_shared<std::vector<nn::AnyModule>>()) {
    for (const auto& r : predicted.rows) inputs_[r.name] = r.input;
  }

  std::vector<RealRow> rows;
  std::shared_ptr<Recorded> rec;
  std::shared_ptr<std::vector<nn::AnyModule>> leaves;  // each row's leaf module (empty for adds)

  Chain list(const Layers& layers) {
    Chain chain(rec, leaves);
    for (const auto& n : layers) {
      std::string local = n.name.substr(n.name.rfind('.') + 1);
      std::visit(overloaded{
                     [&](const Sequential& s) { chain->add(local, nn::AnyModule(list(s.layers)), std::nullopt); },
                     [&](const Residual& r) { chain->add(local, nn::AnyModule(residual(n, r)), std::nullopt); },
                     [&](const auto&) {
                       std::size_t row = add_row(n.name, kind_name(n.kind));
                       auto in = inputs_.find(n.name);
                       if (in == inputs_.end()) {
                         chain->add_lazy(local, [n](const Shape& s) { return make_leaf(n, s); }, row);
                       } else {
                         (*leaves)[row] = make_leaf(n, in->second);
                         chain->add(local, (*leaves)[row], row);
                       }
                     },
                 },
                 n.kind);
    }
    return chain;
  }

 private:
  std::map<std::string, Shape> inputs_;  // predicted input of every row the evaluator reached

  std::size_t add_row(const std::string& name, const std::string& type) {
    rows.push_back({name, type, std::nullopt, 0});
    leaves->emplace_back();
    rec->shapes.emplace_back();
    return rows.size() - 1;
  }

  AddBlock residual(const Node& n, const Residual& r) {
    Chain body = list(r.body);
    Chain shortcut = list(r.shortcut);
    std::size_t row = add_row(n.name, "add");
    Chain after = list(r.after);
    return AddBlock(body, shortcut, after, row, rec);
  }
};

int64_t numel_of(const std::vector<torch::Tensor>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

double time_ms(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

RunResult run_network(const Spec& spec, const Evaluation& predicted, const RunOptions& opt) {
  RunResult result;
  if (opt.threads > 0) torch::set_num_threads(opt.threads);
  torch::manual_seed(opt.seed);
  torch::NoGradGuard no_grad;
  Builder b(predicted);
  Chain net(nullptr);
  try {
    net = b.list(spec.layers);
    net->eval();
    torch::Tensor x = torch::randn(spec.input);
    torch::Tensor y = net->forward(x);
    result.output = y.sizes().vec();
    if (opt.bench > 0) {
      net->forward(x);  // warm-up
      // With compare_plain, the same modules run with recording off, in
      // A-B-B-A order so that neither side always goes first.
      for (int i = 0; i < opt.bench; ++i) {
        bool plain_first = opt.compare_plain && i % 2 == 1;
        for (bool plain : {plain_first, !plain_first}) {
          if (plain && !opt.compare_plain) continue;
          b.rec->on = !plain;
          double ms = time_ms([&] { net->forward(x); });
          (plain ? result.plain_forward_ms : result.forward_ms).push_back(ms);
        }
      }
      b.rec->on = true;
    }
  } catch (const c10::Error& e) {
    result.error = e.what_without_backtrace();
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  // Counted after the forward pass: lazily built leaves exist only then.
  for (std::size_t i = 0; i < b.rows.size(); ++i) {
    b.rows[i].shape = b.rec->shapes[i];
    if (!(*b.leaves)[i].is_empty()) b.rows[i].params = numel_of((*b.leaves)[i].ptr()->parameters());
  }
  if (!net.is_empty()) result.params = numel_of(net->parameters());  // the whole tree, independently
  result.rows = std::move(b.rows);
  return result;
}

}  // namespace netshape
