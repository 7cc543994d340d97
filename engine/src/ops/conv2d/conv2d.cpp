// k x k convolution with stride, zero padding and bias: as implicit GEMM (shaders/conv2d.comp), or
// on the cpu profile as a direct convolution reading k-major weights as vec4 texels
// (conv2d_direct.comp; the builder adds that copy of a constant weight as a fourth input).
// With groups or dilation other than 1 (depthwise, grouped, atrous), one direct kernel on every
// profile (conv2d_grouped.comp), reading the weight as it comes.
#include <algorithm>

#include "conv2d.spv.h"
#include "conv2d_direct.spv.h"
#include "conv2d_grouped.spv.h"
#include "ops/op.h"
#include "ops/registry.h"
#include "spirv_reflect.h"

namespace vkattn {
namespace {

struct Conv2d final : Op {
  Conv2d(Size2 stride, Size2 padding, int64_t groups, Size2 dilation)
      : stride_(stride), padding_(padding), groups_(groups), dilation_(dilation) {}
  std::string name() const override { return "conv2d"; }
  // groups = dilation = 1: the GEMM and cpu-profile kernels (which must not change); else conv2d_grouped.
  bool plain() const { return groups_ == 1 && dilation_.h == 1 && dilation_.w == 1; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape &x = in[0], &w = in[1];
    require(x.size() == 4 && element_count(x) >= 1,
            "conv2d: the input must be (B, C, H, W), but it is " + to_string(x) + ".");
    require(w.size() == 4 && element_count(w) >= 1,
            "conv2d: the weight must be (M, C / groups, KH, KW), but it is " + to_string(w) + ".");
    require(groups_ >= 1 && dilation_.h >= 1 && dilation_.w >= 1,
            "conv2d: the groups and the dilation must be at least 1.");
    require(x[1] % groups_ == 0 && w[0] % groups_ == 0,
            "conv2d: the groups (" + std::to_string(groups_) + ") must divide the input channels (" +
                std::to_string(x[1]) + ") and the output channels (" + std::to_string(w[0]) + ").");
    require(w[1] * groups_ == x[1],
            "conv2d: the weight " + to_string(w) + " expects " + std::to_string(w[1] * groups_) +
                " input channels but the input " + to_string(x) + " has " + std::to_string(x[1]) +
                (groups_ > 1 ? " (the weight holds C / groups = " + std::to_string(x[1] / groups_) + " per output)." : "."));
    require(in[2].size() == 1 && in[2][0] == w[0],
            "conv2d: the bias must be (" + std::to_string(w[0]) + ",), but it is " + to_string(in[2]) + ".");
    require_output_major_weight(in, name());
    // A dilated kernel covers dilation (K - 1) + 1 input positions.
    return {{x[0], w[0],
             window_count(x[2], dilation_.h * (w[2] - 1) + 1, stride_.h, padding_.h, name(),
                          dilation_.h > 1 ? "dilated height" : "height"),
             window_count(x[3], dilation_.w * (w[3] - 1) + 1, stride_.w, padding_.w, name(),
                          dilation_.w > 1 ? "dilated width" : "width")}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    if (!plain()) return grouped_dispatch(n, {});
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
    if (!plain()) return {grouped_dispatch(n, {})};
    auto direct = direct_dispatches(n, device, {});
    return direct.empty() ? std::vector<Dispatch>{dispatch(n)} : direct;
  }
  std::vector<Dispatch> fused_dispatches(const NodeShapes& n, const DeviceInfo& device, const Epilogue& e) const override {
    if (!plain()) return e.max_pool ? std::vector<Dispatch>{} : std::vector<Dispatch>{grouped_dispatch(n, e)};
    return direct_dispatches(n, device, e);
  }

  double flops(const NodeShapes& n) const override {  // of the convolution, whatever is folded in after it
    const Shape &w = n.in_shape[1], y = infer(n.in_shape)[0];
    return 2.0 * element_count(y) * w[1] * w[2] * w[3];  // w[1] is C / groups
  }

 private:
  // The cpu profile's direct convolution, or nothing where it does not apply. With a max pool in
  // the epilogue, y is the pooled output and each lane's 4 positions are one 2x2 window.
  std::vector<Dispatch> direct_dispatches(const NodeShapes& n, const DeviceInfo& device, const Epilogue& e) const {
    const Shape &x = n.in_shape[0], &w = n.in_shape[1], &y = n.out_shape[0];
    const Shape conv = infer(n.in_shape)[0];  // before any pooling
    const uint64_t M = w[0], K = w[1] * w[2] * w[3], positions = y[2] * y[3], item = x[1] * x[2] * x[3];
    const ShaderInterface shader = reflect(conv2d_direct_spv);
    // A folded 2x2 max pool takes 4 positions per lane, one window.
    const LaneTile tile = lane_tile(positions, x[0], double(M) * double(K) * double(conv[2] * conv[3]) * double(x[0]),
                                    shader.spec_constant(0));
    const uint64_t per_position = e.max_pool ? 4 : tile.positions;
    if (device.profile != "cpu" || n.in.size() < 4 || !fits(K * ops::padded4(M), BindAs::Vec4Texels, device) ||
        !fits(item, BindAs::FloatTexels, device) || (e.max_pool && e.residual))
      return {};
    // Whole vec4 stores when every lane's positions are whole vec4s of every output channel.
    const bool vec4_store = !e.max_pool && per_position % 4 == 0 && positions % 4 == 0;
    const BindAs out_as = vec4_store ? BindAs::Vec4Storage : BindAs::Storage;
    const uint64_t items = items_per_unit(x[0], {{item, BindAs::FloatTexels}, {M * positions, out_as}}, device);
    const uint64_t lanes_per_item = e.max_pool ? positions : ceil_div(positions, per_position);
    const uint64_t position_groups = ceil_div(items * lanes_per_item, shader.local_size[0]);
    const Operand in{n.in[0], 0, items * item, 0, BindAs::FloatTexels};
    Dispatch d{"conv2d_direct", conv2d_direct_spv,
               {in, {n.in[3], 0, 0, 0, BindAs::Vec4Texels}, {n.in[2], 0, 0, 0, BindAs::FloatTexels},
                {n.out[0], 0, items * M * positions, 0, out_as}, residual_operand(n, e, items * M * positions, in)},
               {u32(x[1]), u32(x[2]), u32(x[3]), u32(w[2]), u32(w[3]), u32(stride_.h), u32(stride_.w), u32(padding_.h),
                u32(padding_.w), u32(conv[2]), u32(conv[3]), u32(M), u32(position_groups), u32(y[2]), u32(y[3]),
                u32(items)}};
    const uint64_t per_lane = channels_per_lane(M, tile.channels);
    d.batches = x[0] / items;
    d.groups_per_batch = ceil_div(M, per_lane) * position_groups;
    d.specialization = {u32(per_lane), u32(per_position), vec4_store, e.max_pool};
    const auto epilogue = e.specialization();
    d.specialization.insert(d.specialization.end(), epilogue.begin(), epilogue.end());
    return {d};
  }

  // The grouped kernel: a tile of PH x P output positions for MG output channels of a group per
  // lane. The kernel unrolls the tile's MG PH P accumulators, at most 32: MG up to 4 channels,
  // then P up to 8 columns, then rows (depthwise 3x3: 4 x 8); fewer for kernels of over 64 taps,
  // so that the unrolled multiply-adds stay within about 2048. Each is as even as whole tiles
  // allow (Mg = 6: two runs of 3; OW = 14: two of 7), so few lanes work past the ends for nothing.
  Dispatch grouped_dispatch(const NodeShapes& n, const Epilogue& e) const {
    const Shape &x = n.in_shape[0], &w = n.in_shape[1], &y = n.out_shape[0];
    const uint64_t M = w[0], Mg = M / groups_, OH = y[2], OW = y[3];
    const auto even = [](uint64_t n, uint64_t most) { return ceil_div(n, ceil_div(n, std::max<uint64_t>(most, 1))); };
    const uint64_t most = std::clamp<uint64_t>(2048 / (w[2] * w[3]), 1, 32);
    const uint64_t MG = even(Mg, std::min<uint64_t>(4, most)), P = even(OW, std::min<uint64_t>(8, most / MG)),
                   PH = even(OH, most / (MG * P));
    const uint64_t blocks = ceil_div(Mg, MG), tile_rows = ceil_div(OH, PH), tile_columns = ceil_div(OW, P);
    const uint64_t lanes = groups_ * blocks * tile_rows * tile_columns, item = x[1] * x[2] * x[3];
    const Operand in{n.in[0], 0, item, 0, BindAs::FloatTexels};
    Dispatch d{"conv2d_grouped", conv2d_grouped_spv,
               {in, {n.in[1], 0, 0, 0, BindAs::FloatTexels}, {n.in[2], 0, 0, 0, BindAs::FloatTexels},
                {n.out[0], 0, M * OH * OW}, residual_operand(n, e, M * OH * OW, in)},
               {u32(x[1]), u32(x[2]), u32(x[3]), u32(padding_.h), u32(padding_.w), u32(OH), u32(OW), u32(M), u32(w[1]),
                u32(Mg), u32(blocks), u32(tile_rows), u32(tile_columns), u32(lanes)}};
    d.batches = x[0];
    d.groups_per_batch = ceil_div(lanes, threads_per_group(conv2d_grouped_spv));
    d.specialization = {u32(MG),        u32(PH),        u32(P),           u32(w[2]),       u32(w[3]),
                        u32(stride_.h), u32(stride_.w), u32(dilation_.h), u32(dilation_.w)};
    const auto epilogue = e.specialization();
    d.specialization.insert(d.specialization.end(), epilogue.begin(), epilogue.end());
    return d;
  }

  Size2 stride_, padding_;
  int64_t groups_;
  Size2 dilation_;
};

}  // namespace

TensorId ops::conv2d(Graph& g, TensorId x, TensorId weight, TensorId bias, Size2 stride, Size2 padding,
                     int64_t groups, Size2 dilation) {
  auto op = std::make_shared<Conv2d>(stride, padding, groups, dilation);
  // Only the groups = dilation = 1 kernels read the output-major copy of the weight.
  if (!op->plain()) return add(g, op, {x, weight, bias})[0];
  return add(g, op, inputs_with_output_major_weight(g, x, weight, bias))[0];
}

// {"type": "conv2d", "name": P, "stride": [h, w], "padding": [h, w], "groups": g,
// "dilation": [h, w]} (defaults 1, 0, 1 and 1; one number serves both axes): weights
// P.weight (M, C / groups, KH, KW) and P.bias (M), as torch.nn.Conv2d with zero padding.
void register_conv2d(Registry& r) {
  r.add("conv2d", LayerType{{"stride", "padding", "groups", "dilation"}, true, [](const LayerSpec& spec) -> AddLayer {
          const std::string name = spec.name();
          const HostTensor weight = spec.tensor("weight"), bias = spec.tensor("bias");
          const Size2 stride = spec.size2("stride", {1, 1}), padding = spec.size2("padding", {0, 0}),
                      dilation = spec.size2("dilation", {1, 1});
          const int64_t groups = spec.integer("groups", 1);
          return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
            const TensorId x = in[0];
            return ops::conv2d(g, x, g.weight(name + ".weight", weight), g.weight(name + ".bias", bias), stride, padding,
                               groups, dilation);
          };
        }});
}

}  // namespace vkattn
