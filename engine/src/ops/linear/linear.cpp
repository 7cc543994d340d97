// Fully connected layer over the last dimension of any rank, as torch.nn.Linear: every row (the
// batch, or the batch times the tokens of (B, N, F)) one of the GEMM's rows (shaders/linear.comp),
// or on the cpu profile one lane of the pointwise kernel (shaders/projection_pointwise.comp).
#include "linear.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct Linear final : Op {
  std::string name() const override { return "linear"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape &x = in[0], &w = in[1];
    require(x.size() >= 2 && element_count(x) >= 1,
            "linear: the input must be (B, ..., F) with no zero size, but it is " + to_string(x) + ".");
    require(w.size() == 2, "linear: the weight must be (M, F), but it is " + to_string(w) + ".");
    require(w[1] == x.back(), "linear: the weight " + to_string(w) + " expects " + std::to_string(w[1]) +
                                  " input features but the input " + to_string(x) + " has " +
                                  std::to_string(x.back()) + " in its last dimension.");
    require(in[2].size() == 1 && in[2][0] == w[0],
            "linear: the bias must be (" + std::to_string(w[0]) + ",), but it is " + to_string(in[2]) + ".");
    require_output_major_weight(in, name());
    Shape y = x;
    y.back() = w[0];
    require(element_count(y) < (int64_t{1} << 32), "linear: the output " + to_string(y) + " is too large.");
    return {y};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& x = n.in_shape[0];
    const uint64_t F = x.back(), rows = element_count(x) / x[0] / F, M = n.in_shape[1][0];
    if (x.size() == 2)  // (B, F): one GEMM with the whole batch as its rows
      return gemm_dispatch("linear", linear_spv, {{n.in[0]}, {n.in[1]}, {n.out[0]}, {n.in[2]}}, 1,
                           {uint64_t(x[0]), M, F, 0, 0, 0, 1.0f});
    // Tokens: one GEMM per batch item over its rows, so that a binding holds one item, not all.
    // Bindings 0 X (A), 1 W (B, n-major), 2 Y, 3 bias.
    return gemm_dispatch("linear", linear_spv,
                         {{n.in[0], 0, rows * F}, {n.in[1]}, {n.out[0], 0, rows * M}, {n.in[2]}}, x[0],
                         {rows, M, F, rows * F, 0, rows * M, 1.0f});
  }

  // CPU profile: each batch row is a position of the pointwise kernel, which reads the
  // feature-major copy of the weights (the builder's fourth input) as vec4 texels.
  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    auto out = pointwise_dispatches(n, layout(n, {}), device);
    if (out.empty()) out.push_back(dispatch(n));
    return out;
  }
  std::vector<Dispatch> fused_dispatches(const NodeShapes& n, const DeviceInfo& device, const Epilogue& e) const override {
    if (e.max_pool) return {};
    return pointwise_dispatches(n, layout(n, e), device);
  }

  double flops(const NodeShapes& n) const override {
    return 2.0 * double(element_count(n.in_shape[0])) * double(n.in_shape[1][0]);
  }

 private:
  // The rows are the positions: (B, F) is one unit of B rows, (B, ..., F) B units of the rows of an item.
  static PointwiseLayout layout(const NodeShapes& n, const Epilogue& e) {
    const Shape& x = n.in_shape[0];
    const uint64_t F = x.back(), M = n.in_shape[1][0];
    const uint64_t units = x.size() == 2 ? 1 : x[0], rows = element_count(x) / units / F;
    return {F, rows, M, units, rows * F, 1, F, true, e};
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
          return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
            const TensorId x = in[0];
            return ops::linear(g, x, g.weight(name + ".weight", weight), g.weight(name + ".bias", bias));
          };
        }});
}

}  // namespace vkattn
