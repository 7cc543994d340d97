// Eval-mode batch norm (nn.BatchNorm1d, 2d, 3d) as one per-channel multiply-add: the host folds
// running_mean, running_var, eps, weight and bias into scale = weight / sqrt(running_var + eps) and
// shift = bias - running_mean * scale (in double, as PyTorch's CPU kernel folds them), and
// channel_affine (shaders/channel_affine.comp) applies y = x * scale[c] + shift[c].
#include <cmath>

#include "channel_affine.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

// x (B, C, ...), scale (C), shift (C) -> y shaped as x.
struct ChannelAffine final : Op {
  std::string name() const override { return "channel_affine"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& x = in[0];
    require(x.size() >= 2 && element_count(x) >= 1,
            "channel_affine: the input must be (B, C, ...) with no zero size, but it is " + to_string(x) + ".");
    const Shape c{x[1]};
    require(in[1] == c && in[2] == c, "channel_affine: scale and shift must be " + to_string(c) +
                                          " for an input of " + std::to_string(x[1]) + " channels, but they are " +
                                          to_string(in[1]) + " and " + to_string(in[2]) + ".");
    return {x};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& x = n.in_shape[0];
    const uint64_t C = x[1], plane = spatial_size(x), count = C * plane;
    const bool vec4 = count % 4 == 0;  // then every thread's four elements are one vec4
    const BindAs as = vec4 ? BindAs::Vec4Storage : BindAs::Storage;
    Dispatch d{"channel_affine", channel_affine_spv,
               {{n.in[0], 0, count, 0, as},
                {n.in[1], 0, 0, C, BindAs::FloatTexels},
                {n.in[2], 0, 0, C, BindAs::FloatTexels},
                {n.out[0], 0, count, 0, as}},
               {u32(C), u32(plane)}};
    d.batches = x[0];
    d.groups_per_batch = ceil_div(count, 4 * threads_per_group(channel_affine_spv));
    d.specialization = {vec4};
    return d;
  }

  double flops(const NodeShapes& n) const override { return 2.0 * element_count(n.in_shape[0]); }
};

void require_vector(const HostTensor& t, int64_t C, const std::string& what) {
  require(t.shape == Shape{C} && int64_t(t.data.size()) == C,
          "batch_norm: " + what + " must be " + to_string(Shape{C}) + " like running_mean, but it is " +
              to_string(t.shape) + ".");
}

// The statistics and affine weights checked and folded into one scale and shift per channel.
struct Folded {
  HostTensor scale, shift;
};

Folded fold(const HostTensor& mean, const HostTensor& var, const std::optional<HostTensor>& weight,
            const std::optional<HostTensor>& bias, double eps) {
  require(mean.shape.size() == 1 && mean.shape[0] >= 1 && int64_t(mean.data.size()) == mean.shape[0],
          "batch_norm: running_mean must be a vector (C), but it is " + to_string(mean.shape) + ".");
  const int64_t C = mean.shape[0];
  require_vector(var, C, "running_var");
  if (weight) require_vector(*weight, C, "weight");
  if (bias) require_vector(*bias, C, "bias");
  require(std::isfinite(eps) && eps >= 0, "batch_norm: eps must be a number of at least 0.");
  Folded f{{{C}, std::vector<float>(C)}, {{C}, std::vector<float>(C)}};
  for (int64_t c = 0; c < C; ++c) {
    const double v = double(var.data[c]) + eps;
    require(v > 0, "batch_norm: running_var + eps must be positive, but it is " + std::to_string(v) + " for channel " +
                       std::to_string(c) + ".");
    const double a = (weight ? double(weight->data[c]) : 1.0) / std::sqrt(v);
    f.scale.data[c] = float(a);
    f.shift.data[c] = float((bias ? double(bias->data[c]) : 0.0) - double(mean.data[c]) * a);
  }
  return f;
}

TensorId apply(Graph& g, TensorId x, const Folded& f, const std::string& name) {
  const int64_t C = f.scale.shape[0];
  const Shape& s = g.shape(x);
  require(s.size() >= 2 && s[1] == C, "batch_norm: the input must be (B, " + std::to_string(C) +
                                          ", ...) for statistics of " + std::to_string(C) + " channels, but it is " +
                                          to_string(s) + ".");
  return ops::channel_affine(g, x, g.weight(name + ".scale", f.scale), g.weight(name + ".shift", f.shift));
}

}  // namespace

TensorId ops::channel_affine(Graph& g, TensorId x, TensorId scale, TensorId shift) {
  return add(g, std::make_shared<ChannelAffine>(), {x, scale, shift})[0];
}

TensorId ops::batch_norm(Graph& g, TensorId x, const HostTensor& running_mean, const HostTensor& running_var,
                         const std::optional<HostTensor>& weight, const std::optional<HostTensor>& bias, double eps,
                         const std::string& name) {
  return apply(g, x, fold(running_mean, running_var, weight, bias, eps), name);
}

// {"type": "batch_norm", "name": P, "eps": e}: eval-mode nn.BatchNorm1d on (B, C) or (B, C, L),
// BatchNorm2d on (B, C, H, W), BatchNorm3d on (B, C, D, H, W); eps defaults to 1e-5. Weights
// P.running_mean and P.running_var (C); P.weight and P.bias (C) when the module is affine (either
// may be absent: 1 and 0). Folded as the file loads, so that wrong shapes fail there.
void register_batch_norm(Registry& r) {
  r.add("channel_affine");
  r.add("batch_norm", LayerType{{"eps"}, true, [](const LayerSpec& spec) -> AddLayer {
                                  const std::string name = spec.name();
                                  auto optional = [&](const std::string& suffix) -> std::optional<HostTensor> {
                                    const auto it = spec.file().tensors.find(name + "." + suffix);
                                    if (it == spec.file().tensors.end()) return std::nullopt;
                                    return it->second;
                                  };
                                  const Folded f = fold(spec.tensor("running_mean"), spec.tensor("running_var"),
                                                        optional("weight"), optional("bias"), spec.number("eps", 1e-5f));
                                  return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                    return apply(g, in[0], f, name);
                                  };
                                }});
}

}  // namespace vkattn
