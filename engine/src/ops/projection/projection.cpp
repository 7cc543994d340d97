// 1x1 convolution with bias, as one GEMM (shaders/projection.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "projection.spv.h"
#include "projection_nmajor.spv.h"

namespace vkattn {
namespace {

struct Projection final : Op {
  explicit Projection(bool positions_major) : positions_major_(positions_major) {}
  std::string name() const override { return positions_major_ ? "projection_nmajor" : "projection"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_activation(in[0], name(), "input");
    const Shape& w = in[1];
    const bool conv_shape = w.size() == 4 && w[2] == 1 && w[3] == 1;
    require((w.size() == 2 || conv_shape) && w[0] >= 1,
            "projection: the weight must be (M, C) or (M, C, 1, 1), but it is " + to_string(w) + ".");
    require(w[1] == in[0][1], "projection: the weight " + to_string(w) + " expects " + std::to_string(w[1]) +
                                  " input channels but the input " + to_string(in[0]) + " has " +
                                  std::to_string(in[0][1]) + ".");
    require(in[2].size() == 1 && in[2][0] == w[0],
            "projection: the bias must be (" + std::to_string(w[0]) + "), but it is " + to_string(in[2]) + ".");
    require_output_major_weight(in, name());
    if (positions_major_) return {{in[0][0], spatial_size(in[0]), w[0]}};
    Shape out = in[0];
    out[1] = w[0];
    return {out};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& x = n.in_shape[0];
    const uint64_t C = x[1], N = spatial_size(x), M = n.in_shape[1][0];
    // Bindings: 0 W (A), 1 X (B), 2 Y (C), 3 bias.
    return gemm_dispatch(name(), positions_major_ ? std::span<const uint32_t>(projection_nmajor_spv) : projection_spv,
                         {{n.in[1]}, {n.in[0], 0, C * N}, {n.out[0], 0, M * N}, {n.in[2]}}, x[0],
                         {M, N, C, 0, C * N, M * N, 1.0f});
  }

  // CPU profile: the pointwise kernel (4 positions a lane) reading the channel-major copy of the
  // weights (the builder's fourth input) as vec4 texels; the tiled GEMM elsewhere.
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
    const Shape& x = n.in_shape[0];
    return 2.0 * x[0] * n.in_shape[1][0] * x[1] * spatial_size(x);
  }

 private:
  PointwiseLayout layout(const NodeShapes& n, const Epilogue& e) const {
    const Shape& x = n.in_shape[0];
    const uint64_t C = x[1], N = spatial_size(x);
    return {C, N, uint64_t(n.in_shape[1][0]), uint64_t(x[0]), C * N, N, 1, positions_major_, e};
  }

  bool positions_major_;
};

}  // namespace

TensorId ops::projection(Graph& g, TensorId x, TensorId weight, TensorId bias, bool positions_major) {
  return add(g, std::make_shared<Projection>(positions_major), inputs_with_output_major_weight(g, x, weight, bias))[0];
}

// Not a layer of its own: the self_attention layer builds it.
void register_projection(Registry& r) { r.add("projection"); }

}  // namespace vkattn
