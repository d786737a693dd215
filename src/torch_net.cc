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

template <std::size_t D> torch::ExpandingArray<D> arr(const Dims& v) {
  return torch::ExpandingArray<D>(c10::IntArrayRef(v));
}

// output_size 0 stands for None: keep that input dim.
template <std::size_t D> torch::ExpandingArrayWithOptionalElem<D> adaptive_size(const Dims& v) {
  torch::ExpandingArrayWithOptionalElem<D> a(c10::optional<int64_t>(1));
  for (std::size_t i = 0; i < D; ++i) (*a)[i] = v[i] ? c10::optional<int64_t>(v[i]) : c10::nullopt;
  return a;
}

// NHWC for 4-D tensors, NDHWC (ChannelsLast3d) for 5-D; other ranks have no such order.
torch::Tensor channels_last_of(const torch::Tensor& t) {
  return t.contiguous(t.dim() == 5 ? torch::MemoryFormat::ChannelsLast3d : torch::MemoryFormat::ChannelsLast);
}

// LibTorch's own module of each ranked kind: Conv1d/2d/3d and so on, the
// options built the same way for every rank.
template <std::size_t D, class Module>
nn::AnyModule conv_module(const Conv& k, int64_t in_channels) {
  nn::ConvOptions<D> o(in_channels, k.out_channels, arr<D>(k.kernel_size));
  o.stride(arr<D>(k.stride)).dilation(arr<D>(k.dilation)).groups(k.groups).bias(k.bias);
  if (k.padding_mode == Padding::same) o.padding(torch::kSame);
  else if (k.padding_mode == Padding::valid) o.padding(torch::kValid);
  else o.padding(arr<D>(k.padding));
  return nn::AnyModule(Module(o));
}
template <std::size_t D, class Module>
nn::AnyModule transposed_module(const ConvTranspose& k, int64_t in_channels) {
  nn::ConvTransposeOptions<D> o(in_channels, k.out_channels, arr<D>(k.kernel_size));
  o.stride(arr<D>(k.stride)).padding(arr<D>(k.padding)).output_padding(arr<D>(k.output_padding))
      .dilation(arr<D>(k.dilation)).groups(k.groups).bias(k.bias);
  return nn::AnyModule(Module(o));
}
template <std::size_t D, class Module> nn::AnyModule max_pool_module(const MaxPool& k) {
  return nn::AnyModule(Module(nn::MaxPoolOptions<D>(arr<D>(k.kernel_size)).stride(arr<D>(k.stride))
                                  .padding(arr<D>(k.padding)).dilation(arr<D>(k.dilation)).ceil_mode(k.ceil_mode)));
}
template <std::size_t D, class Module> nn::AnyModule avg_pool_module(const AvgPool& k) {
  if constexpr (D < 3)
    if (k.norm_type > 0) {  // LPPool1d/2d
      using LP = std::conditional_t<D == 1, nn::LPPool1d, nn::LPPool2d>;
      return nn::AnyModule(LP(nn::LPPoolOptions<D>(k.norm_type, arr<D>(k.kernel_size)).stride(arr<D>(k.stride))
                                  .ceil_mode(k.ceil_mode)));
    }
  auto options = nn::AvgPoolOptions<D>(arr<D>(k.kernel_size)).stride(arr<D>(k.stride))
                     .padding(arr<D>(k.padding)).ceil_mode(k.ceil_mode).count_include_pad(k.count_include_pad);
  if (k.divisor_override) options.divisor_override(*k.divisor_override);  // the parser allows it for 2-d/3-d only
  return nn::AnyModule(Module(options));
}
template <std::size_t D, class Module> nn::AnyModule adaptive_module(const Dims& size) {
  if constexpr (D == 1) return nn::AnyModule(Module(arr<1>(size)));  // no None in 1-d
  else return nn::AnyModule(Module(adaptive_size<D>(size)));
}
// The module for a kind's rank: make(1d, 2d, 3d).
template <class F1, class F2, class F3> nn::AnyModule by_rank(int rank, F1 one, F2 two, F3 three) {
  return rank == 1 ? one() : rank == 3 ? three() : two();
}

// The module of one leaf layer for a given input shape. in_channels,
// num_features and in_features come from the spec when given (so that a
// mismatch reaches PyTorch as written), else from the input, as a PyTorch
// user would write them.
// torch.nn's own module for each element-wise kind; LibTorch 1.13 has none
// for Hardswish, Hardsigmoid and Mish: their functional forms.
nn::AnyModule pointwise_module(const Pointwise& k) {
  const auto& a = k.args;
  switch (k.fn) {
    case Fn::relu6: return nn::AnyModule(nn::ReLU6(nn::ReLU6Options(k.inplace)));
    case Fn::sigmoid: return nn::AnyModule(nn::Sigmoid());
    case Fn::tanh: return nn::AnyModule(nn::Tanh());
    case Fn::silu: return nn::AnyModule(nn::SiLU());
    case Fn::gelu: return nn::AnyModule(nn::GELU(nn::GELUOptions().approximate(k.tanh_gelu ? "tanh" : "none")));
    case Fn::elu: return nn::AnyModule(nn::ELU(nn::ELUOptions().alpha(a[0]).inplace(k.inplace)));
    case Fn::selu: return nn::AnyModule(nn::SELU(nn::SELUOptions(k.inplace)));
    case Fn::celu: return nn::AnyModule(nn::CELU(nn::CELUOptions().alpha(a[0]).inplace(k.inplace)));
    case Fn::leaky_relu:
      return nn::AnyModule(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(a[0]).inplace(k.inplace)));
    case Fn::hardswish: return nn::AnyModule(nn::Functional([](const torch::Tensor& x) { return torch::hardswish(x); }));
    case Fn::hardsigmoid: return nn::AnyModule(nn::Functional([](const torch::Tensor& x) { return torch::hardsigmoid(x); }));
    case Fn::hardtanh:
      return nn::AnyModule(nn::Hardtanh(nn::HardtanhOptions().min_val(a[0]).max_val(a[1]).inplace(k.inplace)));
    case Fn::mish: return nn::AnyModule(nn::Functional([](const torch::Tensor& x) { return torch::mish(x); }));
    case Fn::softplus: return nn::AnyModule(nn::Softplus(nn::SoftplusOptions().beta(a[0]).threshold(a[1])));
    case Fn::identity: return nn::AnyModule(nn::Identity());
    case Fn::softsign: return nn::AnyModule(nn::Softsign());
    case Fn::softshrink: return nn::AnyModule(nn::Softshrink(nn::SoftshrinkOptions(a[0])));
    case Fn::hardshrink: return nn::AnyModule(nn::Hardshrink(nn::HardshrinkOptions(a[0])));
    case Fn::tanhshrink: return nn::AnyModule(nn::Tanhshrink());
    case Fn::log_sigmoid: return nn::AnyModule(nn::LogSigmoid());
    case Fn::rrelu: return nn::AnyModule(nn::RReLU(nn::RReLUOptions().lower(a[0]).upper(a[1]).inplace(k.inplace)));
    case Fn::threshold: return nn::AnyModule(nn::Threshold(nn::ThresholdOptions(a[0], a[1]).inplace(k.inplace)));
  }
  throw std::logic_error("unknown element-wise kind");
}

// F.interpolate, as nn.Upsample runs it (LibTorch's Upsample module lacks
// "area" and "nearest-exact"); LibTorch wants one size or scale per spatial dim.
nn::AnyModule upsample_module(const Upsample& k, const Shape& in) {
  namespace F = torch::nn::functional;
  std::size_t spatial = in.size() >= 3 ? in.size() - 2 : 1;
  F::InterpolateFuncOptions o;
  if (!k.size.empty()) o.size(k.size.size() == 1 ? std::vector<int64_t>(spatial, k.size[0]) : k.size);
  else o.scale_factor(k.scale.size() == 1 ? std::vector<double>(spatial, k.scale[0]) : k.scale);
  switch (k.mode) {
    case Interp::nearest: o.mode(torch::kNearest); break;
    case Interp::nearest_exact: o.mode(torch::kNearestExact); break;
    case Interp::linear: o.mode(torch::kLinear); break;
    case Interp::bilinear: o.mode(torch::kBilinear); break;
    case Interp::bicubic: o.mode(torch::kBicubic); break;
    case Interp::trilinear: o.mode(torch::kTrilinear); break;
    case Interp::area: o.mode(torch::kArea); break;
  }
  if (k.align_corners) o.align_corners(*k.align_corners);
  return nn::AnyModule(nn::Functional([o](const torch::Tensor& x) { return F::interpolate(x, o); }));
}

template <std::size_t D> nn::AnyModule pad_module_of(const Pad& k) {
  auto p = arr<D * 2>(k.pads);
  if (k.mode == PadMode::reflect) {
    using M = std::conditional_t<D == 1, nn::ReflectionPad1d, std::conditional_t<D == 2, nn::ReflectionPad2d, nn::ReflectionPad3d>>;
    return nn::AnyModule(M(nn::ReflectionPadOptions<D>(p)));
  }
  if (k.mode == PadMode::replicate) {
    using M = std::conditional_t<D == 1, nn::ReplicationPad1d, std::conditional_t<D == 2, nn::ReplicationPad2d, nn::ReplicationPad3d>>;
    return nn::AnyModule(M(nn::ReplicationPadOptions<D>(p)));
  }
  if constexpr (D == 2)
    if (k.zero) return nn::AnyModule(nn::ZeroPad2d(nn::ZeroPad2dOptions(p)));
  // ZeroPad1d/3d (PyTorch 2.x) are constant pads of 0.
  using M = std::conditional_t<D == 1, nn::ConstantPad1d, std::conditional_t<D == 2, nn::ConstantPad2d, nn::ConstantPad3d>>;
  return nn::AnyModule(M(nn::ConstantPadOptions<D>(p, k.zero ? 0.0 : k.value)));
}
nn::AnyModule pad_module(const Pad& k) {
  return by_rank(k.rank, [&] { return pad_module_of<1>(k); }, [&] { return pad_module_of<2>(k); },
                 [&] { return pad_module_of<3>(k); });
}

// LayerNorm(bias=False), PyTorch 2.1+: LibTorch 1.13's LayerNorm has no such
// option, so a module with the weight alone, registered as PyTorch registers it.
struct LayerNormNoBiasImpl : nn::Module {
  LayerNormNoBiasImpl(Shape shape, double eps)
      : shape_(std::move(shape)), eps_(eps), weight(register_parameter("weight", torch::ones(shape_))) {}
  torch::Tensor forward(const torch::Tensor& x) { return torch::layer_norm(x, shape_, weight, {}, eps_); }
  Shape shape_;
  double eps_;
  torch::Tensor weight;
};
TORCH_MODULE(LayerNormNoBias);

// Dropout is the identity in eval mode; LibTorch 1.13 has no Dropout1d module,
// so it is PyTorch's rank check around the identity.
nn::AnyModule dropout_module(const Dropout& k) {
  if (k.stochastic) return nn::AnyModule(nn::Identity());  // torchvision's stochastic_depth: `if not training: return input`
  if (k.alpha) {
    if (k.rank) return nn::AnyModule(nn::FeatureAlphaDropout(nn::FeatureAlphaDropoutOptions(k.p).inplace(k.inplace)));
    return nn::AnyModule(nn::AlphaDropout(nn::AlphaDropoutOptions(k.p).inplace(k.inplace)));
  }
  switch (k.rank) {
    case 1: return nn::AnyModule(nn::Functional([](const torch::Tensor& x) {
        TORCH_CHECK(x.dim() == 2 || x.dim() == 3, "Dropout1d: Expected 2D or 3D input, but received a ", x.dim(), "D input");
        return x;
      }));
    case 2: return nn::AnyModule(nn::Dropout2d(nn::Dropout2dOptions(k.p).inplace(k.inplace)));
    case 3: return nn::AnyModule(nn::Dropout3d(nn::Dropout3dOptions(k.p).inplace(k.inplace)));
    default: return nn::AnyModule(nn::Dropout(nn::DropoutOptions(k.p).inplace(k.inplace)));
  }
}

// The implicit dim when none is given: PyTorch's _get_softmax_dim.
nn::AnyModule softmax_module(const Softmax& k, const Shape& in) {
  auto rank = static_cast<int64_t>(in.size());
  int64_t dim = k.dim.value_or(rank == 0 || rank == 1 || rank == 3 ? 0 : 1);
  switch (k.which) {
    case Softmax::softmax: return nn::AnyModule(nn::Softmax(nn::SoftmaxOptions(dim)));
    case Softmax::log_softmax: return nn::AnyModule(nn::LogSoftmax(nn::LogSoftmaxOptions(dim)));
    case Softmax::softmin: return nn::AnyModule(nn::Softmin(nn::SoftminOptions(dim)));
    default: return nn::AnyModule(nn::Softmax2d());
  }
}

nn::AnyModule make_leaf(const Op& op, const Shape& in) {
  auto channels = [&](std::optional<int64_t> given, bool last_dim) -> int64_t {
    if (given) return *given;
    if (in.empty()) return 1;
    return last_dim ? in.back() : (in.size() > 1 ? in[1] : 1);
  };
  return std::visit(
      overloaded{
          [&](const Conv& k) {
            int64_t c = channels(k.in_channels, false);
            return by_rank(k.rank, [&] { return conv_module<1, nn::Conv1d>(k, c); },
                           [&] { return conv_module<2, nn::Conv2d>(k, c); },
                           [&] { return conv_module<3, nn::Conv3d>(k, c); });
          },
          [&](const BatchNorm& k) {
            nn::BatchNormOptions o(channels(k.num_features, false));
            o.eps(k.eps).momentum(k.momentum).affine(k.affine).track_running_stats(k.track_running_stats);
            return by_rank(k.rank, [&] { return nn::AnyModule(nn::BatchNorm1d(o)); },
                           [&] { return nn::AnyModule(nn::BatchNorm2d(o)); },
                           [&] { return nn::AnyModule(nn::BatchNorm3d(o)); });
          },
          [&](const ReLU& k) { return nn::AnyModule(nn::ReLU(nn::ReLUOptions(k.inplace))); },
          [&](const MaxPool& k) {
            return by_rank(k.rank, [&] { return max_pool_module<1, nn::MaxPool1d>(k); },
                           [&] { return max_pool_module<2, nn::MaxPool2d>(k); },
                           [&] { return max_pool_module<3, nn::MaxPool3d>(k); });
          },
          [&](const AvgPool& k) {
            return by_rank(k.rank, [&] { return avg_pool_module<1, nn::AvgPool1d>(k); },
                           [&] { return avg_pool_module<2, nn::AvgPool2d>(k); },
                           [&] { return avg_pool_module<3, nn::AvgPool3d>(k); });
          },
          [&](const AdaptiveAvgPool& k) {
            return by_rank(k.rank, [&] { return adaptive_module<1, nn::AdaptiveAvgPool1d>(k.output_size); },
                           [&] { return adaptive_module<2, nn::AdaptiveAvgPool2d>(k.output_size); },
                           [&] { return adaptive_module<3, nn::AdaptiveAvgPool3d>(k.output_size); });
          },
          [&](const AdaptiveMaxPool& k) {
            return by_rank(k.rank, [&] { return adaptive_module<1, nn::AdaptiveMaxPool1d>(k.output_size); },
                           [&] { return adaptive_module<2, nn::AdaptiveMaxPool2d>(k.output_size); },
                           [&] { return adaptive_module<3, nn::AdaptiveMaxPool3d>(k.output_size); });
          },
          [&](const Flatten& k) {
            return nn::AnyModule(nn::Flatten(nn::FlattenOptions().start_dim(k.start_dim).end_dim(k.end_dim)));
          },
          [&](const Linear& k) {
            return nn::AnyModule(nn::Linear(nn::LinearOptions(channels(k.in_features, true), k.out_features).bias(k.bias)));
          },
          [&](const Dropout& k) { return dropout_module(k); },
          [&](const InstanceNorm& k) {
            nn::InstanceNormOptions o(channels(k.num_features, false));
            o.eps(k.eps).momentum(k.momentum).affine(k.affine).track_running_stats(k.track_running_stats);
            return by_rank(k.rank, [&] { return nn::AnyModule(nn::InstanceNorm1d(o)); },
                           [&] { return nn::AnyModule(nn::InstanceNorm2d(o)); },
                           [&] { return nn::AnyModule(nn::InstanceNorm3d(o)); });
          },
          [&](const GroupNorm& k) {
            return nn::AnyModule(nn::GroupNorm(
                nn::GroupNormOptions(k.num_groups, channels(k.num_channels, false)).eps(k.eps).affine(k.affine)));
          },
          [&](const LayerNorm& k) {
            if (k.elementwise_affine && !k.bias) return nn::AnyModule(LayerNormNoBias(k.normalized_shape, k.eps));
            return nn::AnyModule(nn::LayerNorm(
                nn::LayerNormOptions(k.normalized_shape).eps(k.eps).elementwise_affine(k.elementwise_affine)));
          },
          [&](const LocalResponseNorm& k) {
            return nn::AnyModule(nn::LocalResponseNorm(
                nn::LocalResponseNormOptions(k.size).alpha(k.alpha).beta(k.beta).k(k.k)));
          },
          [&](const PReLU& k) {
            return nn::AnyModule(nn::PReLU(nn::PReLUOptions().num_parameters(k.num_parameters).init(k.init)));
          },
          [&](const Softmax& k) { return softmax_module(k, in); },
          [&](const Narrow& k) {
            Narrow c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) { return x.narrow(c.dim, c.start, c.length); }));
          },
          [&](const Slice& k) {
            Slice c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) {
              auto opt = [](std::optional<int64_t> v) { return v ? c10::optional<int64_t>(*v) : c10::nullopt; };
              return x.slice(c.dim, opt(c.start), opt(c.end), c.step);
            }));
          },
          [&](const Chunk& k) {
            Chunk c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) {
              auto parts = x.chunk(c.chunks, c.dim);
              TORCH_CHECK(c.index < static_cast<int64_t>(parts.size()), "chunk ", c.index, " of ", parts.size());
              return parts[static_cast<std::size_t>(c.index)];
            }));
          },
          [&](const GLU& k) { return nn::AnyModule(nn::GLU(nn::GLUOptions(k.dim))); },
          [&](const Permute& k) {
            Permute c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) {
              return c.transpose ? x.transpose(c.dim0, c.dim1) : x.permute(c.dims);
            }));
          },
          [&](const Squeeze& k) {
            Squeeze c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) {
              return c.unsqueeze ? x.unsqueeze(*c.dim) : c.dim ? x.squeeze(*c.dim) : x.squeeze();
            }));
          },
          [&](const Select& k) {
            Select c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) { return x.select(c.dim, c.index); }));
          },
          [&](const Reduce& k) {
            Reduce c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) {
              return c.op == Reduce::mean ? x.mean(c.dims, c.keepdim)
                     : c.op == Reduce::sum ? x.sum(c.dims, c.keepdim) : x.amax(c.dims, c.keepdim);
            }));
          },
          [&](const Expand& k) {
            Expand c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) { return x.expand(c.sizes); }));
          },
          [&](const Roll& k) {
            Roll c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) { return x.roll(c.shifts, c.dims); }));
          },
          [&](const Reshape& k) {
            Reshape c = k;
            return nn::AnyModule(nn::Functional([c](const torch::Tensor& x) {
              return c.view ? x.view(c.shape) : x.reshape(c.shape);
            }));
          },
          [&](const Unflatten& k) {
            return nn::AnyModule(nn::Unflatten(nn::UnflattenOptions(k.dim, k.sizes)));
          },
          [&](const Pointwise& k) { return pointwise_module(k); },
          [&](const ConvTranspose& k) {
            int64_t c = channels(k.in_channels, false);
            return by_rank(k.rank, [&] { return transposed_module<1, nn::ConvTranspose1d>(k, c); },
                           [&] { return transposed_module<2, nn::ConvTranspose2d>(k, c); },
                           [&] { return transposed_module<3, nn::ConvTranspose3d>(k, c); });
          },
          [&](const Upsample& k) { return upsample_module(k, in); },
          [&](const Pad& k) { return pad_module(k); },
          [&](const PixelShuffle& k) {
            return k.unshuffle ? nn::AnyModule(nn::PixelUnshuffle(nn::PixelUnshuffleOptions(k.factor)))
                               : nn::AnyModule(nn::PixelShuffle(nn::PixelShuffleOptions(k.factor)));
          },
          [&](const ChannelShuffle& k) {
            int64_t g = k.groups;  // LibTorch 1.13 has the op, not the module
            return nn::AnyModule(nn::Functional([g](const torch::Tensor& x) { return torch::channel_shuffle(x, g); }));
          },
          [&](const Merge&) -> nn::AnyModule { throw std::logic_error("a merge has no module"); },
          [&](const Parameter&) -> nn::AnyModule { throw std::logic_error("a parameter is no module"); },
          [&](const Embedding& k) {
            nn::EmbeddingOptions o(k.num_embeddings, k.embedding_dim);
            o.norm_type(k.norm_type).scale_grad_by_freq(k.scale_grad_by_freq).sparse(k.sparse);
            if (k.padding_idx) o.padding_idx(*k.padding_idx);
            if (k.max_norm) o.max_norm(*k.max_norm);
            return nn::AnyModule(nn::Embedding(o));
          },
      },
      op);
}

// The graph as a torch::nn::Module. Leaves are registered under their dotted
// names (register_module refuses dots, so every prefix gets a plain Module
// holding the next level), so named_modules() and named_parameters() print
// netshape's names. forward() runs the nodes in order on a tensor per value
// id, freeing each after its last use, and records each node's output shape:
// LibTorch's C++ modules have no forward hooks.
class NetImpl : public nn::Module {
 public:
  NetImpl(const Graph& g, const Evaluation& predicted) : g_(g), leaves_(g.nodes.size()), shapes(g.nodes.size()) {
    last_.assign(g.nodes.size() + 1, 0);
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& x : g.nodes[i].inputs) last_[static_cast<std::size_t>(x.value)] = i;
    for (int v : g.outputs) last_[static_cast<std::size_t>(v)] = SIZE_MAX;
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
      const GraphNode& n = g.nodes[i];
      if (std::holds_alternative<Merge>(n.op) || n.inputs.size() > 1 ||
          (std::holds_alternative<Parameter>(n.op) && n.shares >= 0))
        continue;  // run in forward()
      if (auto* p = std::get_if<Parameter>(&n.op); p && n.shares < 0) {  // registered as nn.Parameter is: by its own name
        const std::string& name = n.name;
        auto dot = name.rfind('.');
        params_[i] = holder(dot == std::string::npos ? "" : name.substr(0, dot))
                         ->register_parameter(name.substr(dot == std::string::npos ? 0 : dot + 1),
                                              torch::randn(p->shape) * 0.02);
        continue;
      }
      // `shares`: the same module object, called again (registered once).
      if (n.shares >= 0) {
        leaves_[i] = leaves_[static_cast<std::size_t>(n.shares)];
        continue;
      }
      // A leaf the evaluator never reached (a --force run past an error) is
      // built from its real input on first use, as PyTorch code would be.
      if (i < predicted.rows.size()) place(i, make_leaf(n.op, predicted.rows[i].input));
    }
  }

  std::vector<torch::Tensor> forward(torch::Tensor x) {
    std::vector<torch::Tensor> v(g_.nodes.size() + 1);
    v[0] = std::move(x);
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      const GraphNode& n = g_.nodes[i];
      if (auto* m = std::get_if<Merge>(&n.op)) {
        v[i + 1] = merge(n, *m, v, i);
      } else if (std::holds_alternative<Parameter>(n.op)) {
        v[i + 1] = params_.at(n.shares >= 0 ? static_cast<std::size_t>(n.shares) : i);
      } else if (n.inputs.size() > 1) {
        v[i + 1] = sized(n, v[static_cast<std::size_t>(n.inputs[0].value)], v[static_cast<std::size_t>(n.inputs[1].value)]);
      } else {
        if (leaves_[i].is_empty() && n.shares >= 0) leaves_[i] = leaves_[static_cast<std::size_t>(n.shares)];
        if (leaves_[i].is_empty()) {
          place(i, make_leaf(n.op, v[static_cast<std::size_t>(n.inputs[0].value)].sizes().vec()));
          leaves_[i].ptr()->to(device_, dtype_);
        }
        v[i + 1] = leaves_[i].forward(v[static_cast<std::size_t>(n.inputs[0].value)]);
      }
      if (record) shapes[i] = v[i + 1].sizes().vec();
      for (const auto& in : n.inputs)
        if (last_[static_cast<std::size_t>(in.value)] == i) v[static_cast<std::size_t>(in.value)] = torch::Tensor();
    }
    std::vector<torch::Tensor> out;
    for (int o : g_.outputs) out.push_back(v[static_cast<std::size_t>(o)]);
    return out;
  }

  const nn::AnyModule& leaf(std::size_t i) const { return leaves_[i]; }
  std::optional<torch::Tensor> param(std::size_t i) const {
    auto it = params_.find(i);
    return it == params_.end() ? std::nullopt : std::optional<torch::Tensor>(it->second);
  }
  // Where leaves built later (lazily, for --force) go too.
  void place_on(torch::Device d, torch::ScalarType t, bool channels_last) {
    device_ = d, dtype_ = t, channels_last_ = channels_last;
    if (channels_last)
      for (auto& p : parameters())
        if (p.dim() == 4 || p.dim() == 5) p.set_data(channels_last_of(p));
  }
  bool record = true;
  std::vector<std::optional<Shape>> shapes;  // each node's real output, by node

 private:
  const Graph& g_;
  std::vector<nn::AnyModule> leaves_;
  std::vector<std::size_t> last_;  // the last node reading each value
  std::map<std::string, std::shared_ptr<nn::Module>> holders_;
  torch::Device device_ = torch::kCPU;
  torch::ScalarType dtype_ = torch::kFloat;
  bool channels_last_ = false;

  std::map<std::size_t, torch::Tensor> params_;  // Parameter nodes' tensors

  // A layer whose sizes come from another value, as PyTorch code reads them:
  // x.expand(n, -1, -1) with n = y.shape[0]; F.interpolate(x, size=y.shape[2:]).
  static torch::Tensor sized(const GraphNode& n, const torch::Tensor& x, const torch::Tensor& y) {
    if (auto* e = std::get_if<Expand>(&n.op)) {
      if (e->as_other) return x.expand_as(y);
      std::vector<int64_t> sizes = e->sizes;
      for (std::size_t k = 0; k < sizes.size(); ++k)
        if (e->from_dim[k]) sizes[k] = y.size(*e->from_dim[k]);
      return x.expand(sizes);
    }
    if (auto* p = std::get_if<Pad>(&n.op))  // F.pad(x, [diffX // 2, diffX - diffX // 2, …])
      return pad_module(pad_to(*p, x.sizes().vec(), y.sizes().vec())).forward(x);
    if (auto* p = std::get_if<MaxPool>(&n.op))  // F.max_pool2d(x, y.size(3))
      return make_leaf(read_kernel(*p, y.sizes().vec()), x.sizes().vec()).forward(x);
    if (auto* p = std::get_if<AvgPool>(&n.op))
      return make_leaf(read_kernel(*p, y.sizes().vec()), x.sizes().vec()).forward(x);
    if (auto* r = std::get_if<Reshape>(&n.op)) {  // y.view(b, c, 1, 1) with b, c, _, _ = x.size()
      std::vector<int64_t> sizes = r->shape;
      for (std::size_t k = 0; k < sizes.size(); ++k)
        if (r->from_dim[k]) sizes[k] = y.size(*r->from_dim[k]);
      return r->view ? x.view(sizes) : x.reshape(sizes);
    }
    const auto& u = std::get<Upsample>(n.op);
    Upsample c = u;
    c.size = y.sizes().vec();
    TORCH_CHECK(c.size.size() >= 3, "size_from: the other value has no spatial dims");
    c.size.erase(c.size.begin(), c.size.begin() + 2);
    return upsample_module(c, x.sizes().vec()).forward(x);
  }

  void place(std::size_t i, nn::AnyModule m) {
    const std::string& name = g_.nodes[i].name;
    auto dot = name.rfind('.');
    holder(dot == std::string::npos ? "" : name.substr(0, dot))
        ->register_module(name.substr(dot == std::string::npos ? 0 : dot + 1), m.ptr());
    leaves_[i] = std::move(m);
  }

  nn::Module* holder(const std::string& prefix) {
    if (prefix.empty()) return this;
    auto it = holders_.find(prefix);
    if (it != holders_.end()) return it->second.get();
    auto h = std::make_shared<nn::Module>();
    auto dot = prefix.rfind('.');
    holder(dot == std::string::npos ? "" : prefix.substr(0, dot))
        ->register_module(prefix.substr(dot == std::string::npos ? 0 : dot + 1), h);
    holders_[prefix] = h;
    return h.get();
  }

  torch::Tensor merge(const GraphNode& n, const Merge& m, std::vector<torch::Tensor>& v, std::size_t i) {
    auto at = [&](std::size_t k) -> torch::Tensor& { return v[static_cast<std::size_t>(n.inputs[k].value)]; };
    if (m.op == MergeOp::cat) {
      std::vector<torch::Tensor> parts;
      for (std::size_t k = 0; k < n.inputs.size(); ++k) parts.push_back(at(k));
      if (m.crop) crop(parts, m.dim);
      return torch::cat(parts, m.dim);
    }
    if (m.op == MergeOp::matmul) return torch::matmul(at(0), at(1));
    torch::Tensor y = at(0);
    for (std::size_t k = 1; k < n.inputs.size(); ++k) {
      const torch::Tensor& b = at(k);
      // In place, like the seed's `out += residual`, when the first input is
      // not read again and the shapes agree: it saves an allocation per
      // block. Otherwise out of place, so that a forced run shows what `+`
      // and `*` do (PyTorch broadcasts size-1 dims).
      bool own = k > 1 || (n.inputs[0].value != 0 && last_[static_cast<std::size_t>(n.inputs[0].value)] == i &&
                           n.inputs[0].value != n.inputs[k].value);
      if (m.op == MergeOp::add) y = own && y.sizes() == b.sizes() ? y.add_(b) : y + b;
      else y = y * b;
    }
    return y;
  }

  // U-Net's copy and crop: every spatial dim but the cat's, centred, down to the smallest.
  static void crop(std::vector<torch::Tensor>& parts, int64_t dim) {
    int64_t rank = parts[0].dim();
    if (dim < 0) dim += rank;
    for (int64_t d = 2; d < rank; ++d) {
      if (d == dim) continue;
      int64_t least = INT64_MAX;
      for (const auto& p : parts) least = std::min(least, p.size(d));
      for (auto& p : parts) p = p.narrow(d, (p.size(d) - least) / 2, least);
    }
  }
};
TORCH_MODULE(Net);

std::string device_count_text(const std::string& device, std::size_t count) {
  return "--device " + device + ": this machine has " + std::to_string(count) + " CUDA device" +
         (count == 1 ? "" : "s") + " (cuda:0 to cuda:" + std::to_string(count == 0 ? 0 : count - 1) + ")";
}

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
  const Graph& g = spec.graph;
  Net net(nullptr);
  torch::Device device(opt.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    result.setup_error = "--device " + opt.device + ": this LibTorch sees no CUDA device (a CPU build, or no "
                         "GPU or driver here); run on cpu, or build against a CUDA LibTorch (docs/torch-runner.md)";
  else if (device.is_cuda() && device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
    result.setup_error = device_count_text(opt.device, torch::cuda::device_count());
  else if (device.is_cpu() && opt.dtype == "float16")
    // LibTorch 1.13: "slow_conv2d_cpu" not implemented for 'Half'.
    result.setup_error = "--dtype float16 on the CPU: LibTorch has no half-precision CPU convolution; use --dtype "
                         "bfloat16 on the CPU, or float16 on a CUDA device";
  if (!result.setup_error.empty()) return result;
  try {
    torch::ScalarType dtype = opt.dtype == "float16" ? torch::kHalf : opt.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat;
    net = Net(g, predicted);
    net->eval();
    net->to(device, dtype);
    net->place_on(device, dtype, opt.channels_last);
    torch::Tensor x = input_holds_indices(g) ? torch::zeros(spec.input, torch::kLong).to(device)  // row 0 of each table
                                             : torch::randn(spec.input).to(device, dtype);
    if (opt.channels_last && (x.dim() == 4 || x.dim() == 5)) x = channels_last_of(x);
    result.device = device.str();
    result.dtype = opt.dtype;
    auto y = net->forward(x);
    result.output = y.front().sizes().vec();
    if (opt.bench > 0) {
      net->forward(x);  // warm-up (twice on a GPU: the first pass pays for cuDNN's setup)
    if (x.is_cuda()) net->forward(x).front().flatten()[0].item<float>();
      // With compare_plain, the same modules run with recording off, in
      // A-B-B-A order so that neither side always goes first.
      for (int i = 0; i < opt.bench; ++i) {
        bool plain_first = opt.compare_plain && i % 2 == 1;
        for (bool plain : {plain_first, !plain_first}) {
          if (plain && !opt.compare_plain) continue;
          net->record = !plain;
          // On a GPU the forward only queues kernels: wait for them, inside the timing.
          double ms = time_ms([&] {
            auto y = net->forward(x);
            if (x.is_cuda()) y.front().flatten()[0].item<float>();
          });
          (plain ? result.plain_forward_ms : result.forward_ms).push_back(ms);
        }
      }
      net->record = true;
    }
  } catch (const c10::Error& e) {
    result.error = e.what_without_backtrace();
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  // Counted after the forward pass: lazily built leaves exist only then.
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    RealRow r{g.nodes[i].name, op_name(g.nodes[i].op), std::nullopt, 0};
    if (!net.is_empty()) {
      r.shape = net->shapes[i];
      if (!net->leaf(i).is_empty() && g.nodes[i].shares < 0) r.params = numel_of(net->leaf(i).ptr()->parameters());
      if (auto p = net->param(i)) r.params = p->numel();
    }
    result.rows.push_back(std::move(r));
  }
  if (!net.is_empty()) result.params = numel_of(net->parameters());  // the whole tree, independently
  return result;
}

}  // namespace netshape
