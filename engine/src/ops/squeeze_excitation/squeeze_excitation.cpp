// Squeeze-and-excitation (Hu et al. 2018), as torchvision's SqueezeExcitation:
//   y = x * sigmoid(fc2(max(fc1(mean over H, W of x), 0)))
// Three nodes: global_avg_pool2d, the gate (shaders/se_gate.comp: both 1x1 convolutions of one
// batch item in one workgroup) and the channel scaling (shaders/scale_channels.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "scale_channels.spv.h"
#include "se_gate.spv.h"

namespace vkattn {
namespace {

constexpr int64_t kMaxSqueeze = 4096;  // the gate's hidden values in 16 KiB of shared memory

// (B, C, 1, 1) pooled, W1 (S, C), b1 (S), W2 (C, S), b2 (C) -> the gate (B, C).
struct SeGate final : Op {
  std::string name() const override { return "se_gate"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape &p = in[0], &w1 = in[1], &b1 = in[2], &w2 = in[3], &b2 = in[4];
    require(p.size() == 4 && p[2] == 1 && p[3] == 1,
            "squeeze_excitation: the pooled input must be (B, C, 1, 1), but it is " + to_string(p) + ".");
    const int64_t C = p[1];
    require(w1.size() == 2 && w1[1] == C && w1[0] >= 1,
            "squeeze_excitation: fc1's weight must be (S, " + std::to_string(C) + ") for " + std::to_string(C) +
                " channels, but it is " + to_string(w1) + ".");
    const int64_t S = w1[0];
    require(S <= kMaxSqueeze, "squeeze_excitation: " + std::to_string(S) + " squeeze channels; at most " +
                                  std::to_string(kMaxSqueeze) + " are supported.");
    require(b1 == Shape{S}, "squeeze_excitation: fc1's bias must be (" + std::to_string(S) + "), but it is " +
                                to_string(b1) + ".");
    require(w2 == Shape{C, S}, "squeeze_excitation: fc2's weight must be (" + std::to_string(C) + ", " +
                                   std::to_string(S) + "), but it is " + to_string(w2) + ".");
    require(b2 == Shape{C}, "squeeze_excitation: fc2's bias must be (" + std::to_string(C) + "), but it is " +
                                to_string(b2) + ".");
    return {{p[0], C}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const uint64_t C = n.in_shape[0][1], S = n.in_shape[1][0];
    Dispatch d{"se_gate", se_gate_spv,
               {{n.in[0], 0, C}, {n.in[1]}, {n.in[2]}, {n.in[3]}, {n.in[4]}, {n.out[0], 0, C}}, {u32(C)}};
    d.batches = n.in_shape[0][0];
    d.specialization = {u32(S)};
    return d;
  }

  double flops(const NodeShapes& n) const override {
    return 4.0 * n.in_shape[0][0] * n.in_shape[0][1] * n.in_shape[1][0];
  }
};

// x (B, C, H, W) times gate (B, C), per channel.
struct ScaleChannels final : Op {
  std::string name() const override { return "scale_channels"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_activation(in[0], name(), "input");
    require(in[1] == Shape{in[0][0], in[0][1]}, "scale_channels: the gate must be (B, C) = (" +
                                                    std::to_string(in[0][0]) + ", " + std::to_string(in[0][1]) +
                                                    "), but it is " + to_string(in[1]) + ".");
    return {in[0]};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const uint64_t C = n.in_shape[0][1], plane = spatial_size(n.in_shape[0]), count = C * plane;
    const bool vec4 = count % 4 == 0;  // then every thread's four elements are one vec4
    const BindAs as = vec4 ? BindAs::Vec4Storage : BindAs::Storage;
    Dispatch d{"scale_channels", scale_channels_spv,
               {{n.in[0], 0, count, 0, as}, {n.in[1], 0, C, 0, BindAs::FloatTexels}, {n.out[0], 0, count, 0, as}},
               {u32(C), u32(plane)}};
    d.batches = n.in_shape[0][0];
    d.groups_per_batch = ceil_div(count, 4 * threads_per_group(scale_channels_spv));
    d.specialization = {vec4};
    return d;
  }

  double flops(const NodeShapes& n) const override { return double(element_count(n.in_shape[0])); }
};

HostTensor as_matrix(const HostTensor& conv_weight) {
  HostTensor m = conv_weight;
  if (m.shape.size() == 4 && m.shape[2] == 1 && m.shape[3] == 1) m.shape = {m.shape[0], m.shape[1]};
  return m;
}

}  // namespace

TensorId ops::squeeze_excitation(Graph& g, TensorId x, TensorId fc1_weight, TensorId fc1_bias, TensorId fc2_weight,
                                 TensorId fc2_bias) {
  require_activation(g.shape(x), "squeeze_excitation", "input");
  const TensorId pooled = ops::global_avg_pool2d(g, x);
  const TensorId gate = add(g, std::make_shared<SeGate>(), {pooled, fc1_weight, fc1_bias, fc2_weight, fc2_bias})[0];
  return add(g, std::make_shared<ScaleChannels>(), {x, gate})[0];
}

// {"type": "squeeze_excitation", "name": P}: weights P.fc1.weight (S, C, 1, 1), P.fc1.bias (S),
// P.fc2.weight (C, S, 1, 1), P.fc2.bias (C), as torchvision.ops.SqueezeExcitation names them.
void register_squeeze_excitation(Registry& r) {
  r.add("se_gate");
  r.add("scale_channels");
  r.add("squeeze_excitation", LayerType{{}, true, [](const LayerSpec& spec) -> AddLayer {
          const std::string name = spec.name();
          const HostTensor w1 = as_matrix(spec.tensor("fc1.weight")), b1 = spec.tensor("fc1.bias");
          const HostTensor w2 = as_matrix(spec.tensor("fc2.weight")), b2 = spec.tensor("fc2.bias");
          return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
            const TensorId x = in[0];
            return ops::squeeze_excitation(g, x, g.weight(name + ".fc1.weight", w1), g.weight(name + ".fc1.bias", b1),
                                           g.weight(name + ".fc2.weight", w2), g.weight(name + ".fc2.bias", b2));
          };
        }});
}

}  // namespace vkattn
