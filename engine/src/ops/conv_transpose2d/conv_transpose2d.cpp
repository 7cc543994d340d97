// Transposed convolution, as torch.nn.ConvTranspose2d (the upsampling layers of generators such as
// SAGAN's): one gather per output position (shaders/conv_transpose2d.comp), no atomics. For a
// constant weight the builder adds a copy with each input channel's and tap's output channels
// contiguous, which the kernel reads 4 channels to a vec4 texel.
#include <numeric>

#include "conv_transpose2d.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

// The weight (C, Mg, KH, KW) as (C KH KW, padded4(Mg)): row (c, tap) holds that input channel's
// and tap's Mg output channels, then zeros.
Shape packed_shape(const Shape& w) { return {w[0] * w[2] * w[3], ops::padded4(w[1])}; }
HostTensor packed_weight(const HostTensor& w) {
  const int64_t C = w.shape[0], Mg = w.shape[1], taps = w.shape[2] * w.shape[3], M4 = ops::padded4(Mg);
  HostTensor packed{packed_shape(w.shape), std::vector<float>(C * taps * M4, 0.f)};
  for (int64_t c = 0; c < C; ++c)
    for (int64_t m = 0; m < Mg; ++m)
      for (int64_t t = 0; t < taps; ++t) packed.data[(c * taps + t) * M4 + m] = w.data[(c * Mg + m) * taps + t];
  return packed;
}

struct ConvTranspose2d final : Op {
  ConvTranspose2d(Size2 stride, Size2 padding, Size2 output_padding, int64_t groups, Size2 dilation)
      : stride_(stride), padding_(padding), output_padding_(output_padding), groups_(groups), dilation_(dilation) {}
  std::string name() const override { return "conv_transpose2d"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape &x = in[0], &w = in[1];
    require(x.size() == 4 && element_count(x) >= 1,
            "conv_transpose2d: the input must be (B, C, H, W), but it is " + to_string(x) + ".");
    require(w.size() == 4 && element_count(w) >= 1,
            "conv_transpose2d: the weight must be (C, M / groups, KH, KW), but it is " + to_string(w) + ".");
    require(stride_.h >= 1 && stride_.w >= 1 && dilation_.h >= 1 && dilation_.w >= 1 && groups_ >= 1,
            "conv_transpose2d: the stride, the dilation and the groups must be at least 1.");
    require(padding_.h >= 0 && padding_.w >= 0 && output_padding_.h >= 0 && output_padding_.w >= 0,
            "conv_transpose2d: the padding and the output padding must be at least 0.");
    // PyTorch's rule: the extra rows and columns must be fewer than the stride or the dilation.
    require((output_padding_.h < stride_.h || output_padding_.h < dilation_.h) &&
                (output_padding_.w < stride_.w || output_padding_.w < dilation_.w),
            "conv_transpose2d: the output padding must be smaller than either the stride or the dilation.");
    require(w[0] == x[1], "conv_transpose2d: the weight " + to_string(w) + " expects " + std::to_string(w[0]) +
                              " input channels but the input " + to_string(x) + " has " + std::to_string(x[1]) + ".");
    require(x[1] % groups_ == 0,
            "conv_transpose2d: the groups (" + std::to_string(groups_) + ") must divide the input channels (" +
                std::to_string(x[1]) + ").");
    const int64_t M = w[1] * groups_;
    require(in[2].size() == 1 && in[2][0] == M,
            "conv_transpose2d: the bias must be (" + std::to_string(M) + ",), but it is " + to_string(in[2]) + ".");
    require(in.size() < 4 || in[3] == packed_shape(w),
            "Internal error: conv_transpose2d's packed weight has shape " + (in.size() < 4 ? "" : to_string(in[3])) + ".");
    return {{x[0], M, out_size(x[2], w[2], stride_.h, padding_.h, output_padding_.h, dilation_.h, "height"),
             out_size(x[3], w[3], stride_.w, padding_.w, output_padding_.w, dilation_.w, "width")}};
  }

  Dispatch dispatch(const NodeShapes& n) const override { return dispatch(n, false); }
  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const Shape& w = n.in_shape[1];
    const bool packed = n.in.size() >= 4 && fits(element_count(packed_shape(w)), BindAs::Vec4Texels, device);
    return {dispatch(n, packed)};
  }

  double flops(const NodeShapes& n) const override {  // every input element times every tap and its outputs
    const Shape &x = n.in_shape[0], &w = n.in_shape[1];
    return 2.0 * element_count(x) * w[1] * w[2] * w[3];
  }

 private:
  Dispatch dispatch(const NodeShapes& n, bool packed) const {
    const Shape &x = n.in_shape[0], &w = n.in_shape[1], &y = n.out_shape[0];
    const uint64_t M = y[1], Mg = w[1];
    // Output channels per lane (each input fetch feeds them all), as even as whole runs (packed:
    // whole texels) allow.
    const uint64_t MG = packed ? channels_per_lane(Mg, 16) : ceil_div(Mg, ceil_div(Mg, 4)), blocks = ceil_div(Mg, MG);
    const uint64_t lanes = groups_ * blocks * y[2] * y[3], item = x[1] * x[2] * x[3];
    const auto step = [](int64_t stride, int64_t dilation) { return u32(stride / std::gcd(stride, dilation)); };
    Dispatch d{"conv_transpose2d", conv_transpose2d_spv,
               {{n.in[0], 0, item, 0, BindAs::FloatTexels},
                {packed ? n.in[3] : n.in[1], 0, 0, 0, packed ? BindAs::Vec4Texels : BindAs::FloatTexels},
                {n.in[2], 0, 0, 0, BindAs::FloatTexels}, {n.out[0], 0, M * y[2] * y[3]}},
               {u32(x[1]), u32(x[2]), u32(x[3]), u32(w[2]), u32(w[3]), u32(stride_.h), u32(stride_.w),
                u32(padding_.h), u32(padding_.w), u32(dilation_.h), u32(dilation_.w), u32(y[2]), u32(y[3]), u32(M),
                u32(x[1] / groups_), u32(Mg), u32(blocks), step(stride_.h, dilation_.h), step(stride_.w, dilation_.w),
                u32(lanes)}};
    d.batches = x[0];
    d.groups_per_batch = ceil_div(lanes, threads_per_group(conv_transpose2d_spv));
    d.specialization = {u32(MG), packed};
    return d;
  }

  // (in - 1) stride - 2 pad + dilation (k - 1) + output_padding + 1, which must be at least 1.
  static int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t output_pad, int64_t dilation,
                          const std::string& axis) {
    const int64_t size = (in - 1) * stride - 2 * pad + dilation * (k - 1) + output_pad + 1;
    require(size >= 1, "conv_transpose2d: the output " + axis + " would be " + std::to_string(size) +
                           " (the padding " + std::to_string(pad) + " is too large for the input and the kernel).");
    return size;
  }

  Size2 stride_, padding_, output_padding_;
  int64_t groups_;
  Size2 dilation_;
};

}  // namespace

TensorId ops::conv_transpose2d(Graph& g, TensorId x, TensorId weight, TensorId bias, Size2 stride, Size2 padding,
                               Size2 output_padding, int64_t groups, Size2 dilation) {
  std::vector<TensorId> in = {x, weight, bias};
  const Graph::Tensor& w = g.tensors().at(weight);
  if (w.kind == Graph::Kind::Weight && w.value && w.shape.size() == 4 && element_count(w.shape) >= 1)
    in.push_back(g.weight(w.name + ".packed", packed_weight(*w.value)));
  return add(g, std::make_shared<ConvTranspose2d>(stride, padding, output_padding, groups, dilation), in)[0];
}

// {"type": "conv_transpose2d", "name": P, "stride": [h, w], "padding": [h, w], "output_padding": [h, w],
// "groups": g, "dilation": [h, w]} (defaults 1, 0, 0, 1 and 1; one number serves both axes):
// weights P.weight (C, M / groups, KH, KW) and P.bias (M), as torch.nn.ConvTranspose2d.
void register_conv_transpose2d(Registry& r) {
  r.add("conv_transpose2d",
        LayerType{{"stride", "padding", "output_padding", "groups", "dilation"}, true, [](const LayerSpec& spec) -> AddLayer {
                    const std::string name = spec.name();
                    const HostTensor weight = spec.tensor("weight"), bias = spec.tensor("bias");
                    const Size2 stride = spec.size2("stride", {1, 1}), padding = spec.size2("padding", {0, 0}),
                                output_padding = spec.size2("output_padding", {0, 0}),
                                dilation = spec.size2("dilation", {1, 1});
                    const int64_t groups = spec.integer("groups", 1);
                    return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                      return ops::conv_transpose2d(g, in[0], g.weight(name + ".weight", weight),
                                                   g.weight(name + ".bias", bias), stride, padding, output_padding,
                                                   groups, dilation);
                    };
                  }});
}

}  // namespace vkattn
