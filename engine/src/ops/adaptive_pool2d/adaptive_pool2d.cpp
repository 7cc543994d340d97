// Adaptive max and average pooling to a given output size (shaders/adaptive_pool2d.comp). Where
// PyTorch's windows are those of a plain pool (the size divides the input: windows of H / OH,
// stride the same; or a 1x1 average: the mean) the builder adds that op instead, whose kernels
// are faster (and a 2x2 max then folds into the convolution before it).
#include "adaptive_pool2d.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct AdaptivePool2d final : Op {
  AdaptivePool2d(bool max, Size2 size) : max_(max), size_(size) {}
  std::string name() const override { return max_ ? "adaptive_max_pool2d" : "adaptive_avg_pool2d"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& x = in[0];
    require(x.size() == 4 && element_count(x) >= 1,
            name() + ": the input must be (B, C, H, W), but it is " + to_string(x) + ".");
    require(size_.h >= 1 && size_.w >= 1 && size_.h <= (1 << 16) && size_.w <= (1 << 16),
            name() + ": the output size must be from 1 to 65536 a side, but it is " + std::to_string(size_.h) + "x" +
                std::to_string(size_.w) + ".");
    // The kernel's window bounds, (i + 1) H + OH, stay within 32 bits.
    require((size_.h + 1) * x[2] < (int64_t{1} << 31) && (size_.w + 1) * x[3] < (int64_t{1} << 31),
            name() + ": the input " + to_string(x) + " is too large for an output of " + std::to_string(size_.h) + "x" +
                std::to_string(size_.w) + ".");
    return {{x[0], x[1], size_.h, size_.w}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape &x = n.in_shape[0], &y = n.out_shape[0];
    const uint64_t out_count = y[1] * y[2] * y[3];
    Dispatch d{name(), adaptive_pool2d_spv, {{n.in[0], 0, uint64_t(x[1] * x[2] * x[3])}, {n.out[0], 0, out_count}},
               {u32(x[1]), u32(x[2]), u32(x[3]), u32(y[2]), u32(y[3])}};
    d.batches = x[0];
    d.groups_per_batch = ceil_div(out_count, threads_per_group(adaptive_pool2d_spv));
    d.specialization = {max_};
    return d;
  }

  double flops(const NodeShapes& n) const override {
    const Shape &x = n.in_shape[0], &y = n.out_shape[0];
    // Each output reads about (H / OH + 1) (W / OW + 1) elements.
    return double(element_count(y)) * double(x[2] / y[2] + 1) * double(x[3] / y[3] + 1);
  }

 private:
  bool max_;
  Size2 size_;
};

TensorId adaptive(Graph& g, TensorId x, Size2 size, bool max) {
  auto op = std::make_shared<AdaptivePool2d>(max, size);
  const Shape& in = g.shape(x);
  op->infer(std::span<const Shape>(&in, 1));  // its checks, with its name, whichever op is added
  const int64_t H = in[2], W = in[3];
  if (!max && size.h == 1 && size.w == 1) return ops::global_avg_pool2d(g, x);
  if (H % size.h == 0 && W % size.w == 0) {
    const Size2 window{H / size.h, W / size.w};
    return max ? ops::max_pool2d(g, x, window, window) : ops::avg_pool2d(g, x, window, window);
  }
  return add(g, op, {x})[0];
}

}  // namespace

TensorId ops::adaptive_avg_pool2d(Graph& g, TensorId x, Size2 size) { return adaptive(g, x, size, false); }
TensorId ops::adaptive_max_pool2d(Graph& g, TensorId x, Size2 size) { return adaptive(g, x, size, true); }

// {"type": "adaptive_avg_pool2d" | "adaptive_max_pool2d", "size": [h, w]} (one number for both):
// as torch.nn.AdaptiveAvgPool2d / AdaptiveMaxPool2d(size), any size from 1 to 65536 a side.
static LayerType adaptive_layer(bool max) {
  return {{"size"}, false, [max](const LayerSpec& spec) -> AddLayer {
            require(spec.has("size"), std::string("an adaptive_") + (max ? "max" : "avg") + "_pool2d layer needs a \"size\".");
            const Size2 size = spec.size2("size", {});
            require(size.h >= 1 && size.w >= 1, "its \"size\" must be at least 1 a side.");
            return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) { return adaptive(g, in[0], size, max); };
          }};
}

void register_adaptive_pool2d(Registry& r) {
  r.add("adaptive_avg_pool2d", adaptive_layer(false));
  r.add("adaptive_max_pool2d", adaptive_layer(true));
}

}  // namespace vkattn
