// Fully connected layer: the batch as the GEMM's rows (shaders/linear.comp), or on the cpu
// profile each batch row as one lane of the pointwise kernel (shaders/projection_pointwise.comp).
#include "linear.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct Linear final : Op {
  std::string name() const override { return "linear"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape &x = in[0], &w = in[1];
    require(x.size() == 2 && element_count(x) >= 1,
            "linear: the input must be (B, F); flatten it first, but it is " + to_string(x) + ".");
    require(w.size() == 2, "linear: the weight must be (M, F), but it is " + to_string(w) + ".");
    require(w[1] == x[1], "linear: the weight " + to_string(w) + " expects " + std::to_string(w[1]) +
                              " input features but the input " + to_string(x) + " has " + std::to_string(x[1]) + ".");
    require(in[2].size() == 1 && in[2][0] == w[0],
            "linear: the bias must be (" + std::to_string(w[0]) + ",), but it is " + to_string(in[2]) + ".");
    require_output_major_weight(in, name());
    return {{x[0], w[0]}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const uint64_t B = n.in_shape[0][0], F = n.in_shape[0][1], M = n.in_shape[1][0];
    // One GEMM over the whole batch: bindings 0 X (A), 1 W (B, n-major), 2 Y, 3 bias.
    return gemm_dispatch("linear", linear_spv, {{n.in[0]}, {n.in[1]}, {n.out[0]}, {n.in[2]}}, 1,
                         {B, M, F, 0, 0, 0, 1.0f});
  }

  // CPU profile: each batch row is a position of the pointwise kernel, which reads the
  // feature-major copy of the weights (the builder's fourth input) as vec4 texels.
  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    auto out = pointwise_dispatches(n, layout(n, false), device);
    if (out.empty()) out.push_back(dispatch(n));
    return out;
  }
  std::vector<Dispatch> fused_dispatches(const NodeShapes& n, const DeviceInfo& device, const Epilogue& e) const override {
    if (e.max_pool) return {};
    return pointwise_dispatches(n, layout(n, e.relu), device);
  }

  double flops(const NodeShapes& n) const override {
    return 2.0 * n.in_shape[0][0] * n.in_shape[0][1] * n.in_shape[1][0];
  }

 private:
  // The batch rows are the positions: x is (B, F), one row per position.
  static PointwiseLayout layout(const NodeShapes& n, bool relu) {
    const uint64_t B = n.in_shape[0][0], F = n.in_shape[0][1], M = n.in_shape[1][0];
    return {F, B, M, 1, B * F, 1, F, true, relu};
  }
};

}  // namespace

TensorId ops::linear(Graph& g, TensorId x, TensorId weight, TensorId bias) {
  return add(g, std::make_shared<Linear>(), inputs_with_output_major_weight(g, x, weight, bias))[0];
}

// {"type": "linear", "name": P}: weights P.weight (M, F) and P.bias (M), as torch.nn.Linear.
void register_linear(Registry& r) {
  r.add("linear", LayerType{{}, true, [](const LayerSpec& spec) -> AddLayer {
          const std::string name = spec.name();
          const HostTensor weight = spec.tensor("weight"), bias = spec.tensor("bias");
          return [=](Graph& g, const std::vector<TensorId>& in, NetworkTensors&) {
            const TensorId x = in[0];
            return ops::linear(g, x, g.weight(name + ".weight", weight), g.weight(name + ".bias", bias));
          };
        }});
}

}  // namespace vkattn
