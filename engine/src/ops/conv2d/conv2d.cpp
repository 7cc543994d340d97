// k x k convolution with stride, zero padding and bias: as implicit GEMM (shaders/conv2d.comp), or
// on the cpu profile as a direct convolution reading k-major weights as vec4 texels
// (conv2d_direct.comp; the builder adds that copy of a constant weight as a fourth input).
#include "conv2d.spv.h"
#include "conv2d_direct.spv.h"
#include "ops/op.h"
#include "ops/registry.h"
#include "spirv_reflect.h"

namespace vkattn {
namespace {

struct Conv2d final : Op {
  Conv2d(Size2 stride, Size2 padding) : stride_(stride), padding_(padding) {}
  std::string name() const override { return "conv2d"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape &x = in[0], &w = in[1];
    require(x.size() == 4 && element_count(x) >= 1,
            "conv2d: the input must be (B, C, H, W), but it is " + to_string(x) + ".");
    require(w.size() == 4, "conv2d: the weight must be (M, C, KH, KW), but it is " + to_string(w) + ".");
    require(w[1] == x[1], "conv2d: the weight " + to_string(w) + " expects " + std::to_string(w[1]) +
                              " input channels but the input " + to_string(x) + " has " + std::to_string(x[1]) + ".");
    require(in[2].size() == 1 && in[2][0] == w[0],
            "conv2d: the bias must be (" + std::to_string(w[0]) + ",), but it is " + to_string(in[2]) + ".");
    require_output_major_weight(in, name());
    return {{x[0], w[0], window_count(x[2], w[2], stride_.h, padding_.h, name(), "height"),
             window_count(x[3], w[3], stride_.w, padding_.w, name(), "width")}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape &x = n.in_shape[0], &w = n.in_shape[1], &y = n.out_shape[0];
    const uint64_t M = w[0], K = w[1] * w[2] * w[3], N = y[2] * y[3];
    const uint64_t in_size = x[1] * x[2] * x[3];
    // Bindings: 0 W (A, m-major), 1 X (gathered as im2col), 2 Y, 3 bias.
    Dispatch d = gemm_dispatch("conv2d", conv2d_spv,
                               {{n.in[1]}, {n.in[0], 0, in_size}, {n.out[0], 0, M * N}, {n.in[2]}}, x[0],
                               {M, N, K, 0, in_size, M * N, 1.0f});
    d.push.insert(d.push.end(), {u32(x[2]), u32(x[3]), u32(w[2]), u32(w[3]), u32(stride_.h), u32(stride_.w),
                                 u32(padding_.h), u32(padding_.w), u32(y[3])});
    return d;
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    auto direct = direct_dispatches(n, device, {});
    return direct.empty() ? std::vector<Dispatch>{dispatch(n)} : direct;
  }
  std::vector<Dispatch> fused_dispatches(const NodeShapes& n, const DeviceInfo& device, const Epilogue& e) const override {
    return direct_dispatches(n, device, e);
  }

  double flops(const NodeShapes& n) const override {  // of the convolution, whatever is folded in after it
    const Shape &w = n.in_shape[1], y = infer(n.in_shape)[0];
    return 2.0 * element_count(y) * w[1] * w[2] * w[3];
  }

 private:
  // The cpu profile's direct convolution, or nothing where it does not apply. With a max pool in
  // the epilogue, y is the pooled output and each lane's 4 positions are one 2x2 window.
  std::vector<Dispatch> direct_dispatches(const NodeShapes& n, const DeviceInfo& device, const Epilogue& e) const {
    const Shape &x = n.in_shape[0], &w = n.in_shape[1], &y = n.out_shape[0];
    const Shape conv = infer(n.in_shape)[0];  // before any pooling
    const uint64_t M = w[0], K = w[1] * w[2] * w[3], positions = y[2] * y[3], item = x[1] * x[2] * x[3];
    const ShaderInterface shader = reflect(conv2d_direct_spv);
    const uint64_t per_position = shader.spec_constant(1);
    if (device.profile != "cpu" || n.in.size() < 4 || !fits(K * ops::padded4(M), BindAs::Vec4Texels, device) ||
        !fits(item, BindAs::FloatTexels, device) || (e.max_pool && per_position != 4))
      return {};
    // Whole vec4 stores when every lane's positions are whole vec4s of every output channel.
    const bool vec4_store = !e.max_pool && per_position % 4 == 0 && positions % 4 == 0;
    const BindAs out_as = vec4_store ? BindAs::Vec4Storage : BindAs::Storage;
    const uint64_t items = items_per_unit(x[0], {{item, BindAs::FloatTexels}, {M * positions, out_as}}, device);
    const uint64_t lanes_per_item = e.max_pool ? positions : ceil_div(positions, per_position);
    const uint64_t position_groups = ceil_div(items * lanes_per_item, shader.local_size[0]);
    Dispatch d{"conv2d_direct", conv2d_direct_spv,
               {{n.in[0], 0, items * item, 0, BindAs::FloatTexels}, {n.in[3], 0, 0, 0, BindAs::Vec4Texels},
                {n.in[2], 0, 0, 0, BindAs::FloatTexels}, {n.out[0], 0, items * M * positions, 0, out_as}},
               {u32(x[1]), u32(x[2]), u32(x[3]), u32(w[2]), u32(w[3]), u32(stride_.h), u32(stride_.w), u32(padding_.h),
                u32(padding_.w), u32(conv[2]), u32(conv[3]), u32(M), u32(position_groups), e.relu, u32(y[2]), u32(y[3]),
                u32(items)}};
    const uint64_t per_lane = channels_per_lane(M, shader.spec_constant(0));
    d.batches = x[0] / items;
    d.groups_per_batch = ceil_div(M, per_lane) * position_groups;
    d.specialization = {u32(per_lane), u32(per_position), vec4_store, e.max_pool};
    return {d};
  }

  Size2 stride_, padding_;
};

}  // namespace

TensorId ops::conv2d(Graph& g, TensorId x, TensorId weight, TensorId bias, Size2 stride, Size2 padding) {
  return add(g, std::make_shared<Conv2d>(stride, padding), inputs_with_output_major_weight(g, x, weight, bias))[0];
}

// {"type": "conv2d", "name": P, "stride": [h, w], "padding": [h, w]} (defaults 1 and 0; one number
// serves both axes): weights P.weight (M, C, KH, KW) and P.bias (M), as torch.nn.Conv2d.
void register_conv2d(Registry& r) {
  r.add("conv2d", LayerType{{"stride", "padding"}, true, [](const LayerSpec& spec) -> AddLayer {
          const std::string name = spec.name();
          const HostTensor weight = spec.tensor("weight"), bias = spec.tensor("bias");
          const Size2 stride = spec.size2("stride", {1, 1}), padding = spec.size2("padding", {0, 0});
          return [=](Graph& g, const std::vector<TensorId>& in, NetworkTensors&) {
            const TensorId x = in[0];
            return ops::conv2d(g, x, g.weight(name + ".weight", weight), g.weight(name + ".bias", bias), stride, padding);
          };
        }});
}

}  // namespace vkattn
