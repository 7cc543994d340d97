// Max and average pooling over 2-D windows (shaders/pool.glsl). Reading the input as float texels
// was tried on lavapipe: no faster than the storage buffer here.
#include "avg_pool2d.spv.h"
#include "max_pool2d.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct Pool2d final : Op {
  Pool2d(bool max, Size2 kernel, Size2 stride, Size2 padding)
      : max_(max), kernel_(kernel), stride_(stride), padding_(padding) {}
  std::string name() const override { return max_ ? "max_pool2d" : "avg_pool2d"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& x = in[0];
    require(x.size() == 4 && element_count(x) >= 1,
            name() + ": the input must be (B, C, H, W), but it is " + to_string(x) + ".");
    // PyTorch's rule; it also means every window holds at least one real element.
    require(padding_.h <= kernel_.h / 2 && padding_.w <= kernel_.w / 2,
            name() + ": the padding must be at most half the kernel size.");
    return {{x[0], x[1], window_count(x[2], kernel_.h, stride_.h, padding_.h, name(), "height"),
             window_count(x[3], kernel_.w, stride_.w, padding_.w, name(), "width")}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape &x = n.in_shape[0], &y = n.out_shape[0];
    const uint64_t in_count = x[1] * x[2] * x[3], out_count = y[1] * y[2] * y[3];
    // A lane's four outputs are one vec4 when every batch item's outputs are whole vec4s.
    const bool vec4_store = out_count % 4 == 0;
    Dispatch d{name(), max_ ? std::span<const uint32_t>(max_pool2d_spv) : std::span<const uint32_t>(avg_pool2d_spv),
               {{n.in[0], 0, in_count}, {n.out[0], 0, out_count, 0, vec4_store ? BindAs::Vec4Storage : BindAs::Storage}},
               {u32(x[1]), u32(x[2]), u32(x[3]), u32(y[2]), u32(y[3]), u32(kernel_.h), u32(kernel_.w),
                u32(stride_.h), u32(stride_.w), u32(padding_.h), u32(padding_.w)}};
    d.batches = x[0];
    d.groups_per_batch = ceil_div(out_count, 4 * threads_per_group(d.spirv));
    d.specialization = {vec4_store};
    return d;
  }

  bool is_2x2_max_pool() const override {
    return max_ && kernel_.h == 2 && kernel_.w == 2 && stride_.h == 2 && stride_.w == 2 && padding_.h == 0 &&
           padding_.w == 0;
  }

  double flops(const NodeShapes& n) const override {
    return double(element_count(n.out_shape[0])) * kernel_.h * kernel_.w;
  }

 private:
  bool max_;
  Size2 kernel_, stride_, padding_;
};

}  // namespace

TensorId ops::max_pool2d(Graph& g, TensorId x, Size2 kernel, Size2 stride, Size2 padding) {
  return add(g, std::make_shared<Pool2d>(true, kernel, stride, padding), {x})[0];
}

TensorId ops::avg_pool2d(Graph& g, TensorId x, Size2 kernel, Size2 stride, Size2 padding) {
  return add(g, std::make_shared<Pool2d>(false, kernel, stride, padding), {x})[0];
}

// {"type": "max_pool2d" or "avg_pool2d", "kernel": [h, w], "stride": [h, w], "padding": [h, w]}:
// the stride defaults to the kernel and the padding to 0; one number serves both axes.
static LayerType pool_layer(bool max) {
  return {{"kernel", "stride", "padding"}, false, [max](const LayerSpec& spec) -> AddLayer {
            require(spec.has("kernel"), std::string("a ") + (max ? "max" : "avg") + "_pool2d layer needs a \"kernel\" size.");
            const Size2 kernel = spec.size2("kernel", {}), stride = spec.size2("stride", kernel),
                        padding = spec.size2("padding", {0, 0});
            return [=](Graph& g, const std::vector<TensorId>& in, NetworkTensors&) {
              const TensorId x = in[0];
              return max ? ops::max_pool2d(g, x, kernel, stride, padding) : ops::avg_pool2d(g, x, kernel, stride, padding);
            };
          }};
}

void register_pool2d(Registry& r) {
  r.add("max_pool2d", pool_layer(true));
  r.add("avg_pool2d", pool_layer(false));
}

}  // namespace vkattn
