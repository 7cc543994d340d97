// Max and average pooling over 2-D windows (shaders/pool.glsl), with PyTorch's dilation,
// ceil_mode, count_include_pad and divisor_override. Reading the input as float texels was tried
// on lavapipe: no faster than the storage buffer here.
#include "avg_pool2d.spv.h"
#include "max_pool2d.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

// Windows along one axis as PyTorch counts them (pooling_output_shape): with ceil_mode the count
// rounds up, less a last window that would start past the input and its left padding.
int64_t pooled_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode,
                    const std::string& op, const std::string& axis) {
  const int64_t window = dilation * (kernel - 1) + 1;
  if (!ceil_mode) return window_count(in, window, stride, pad, op, axis);
  require(kernel >= 1 && stride >= 1 && pad >= 0,
          op + ": the " + axis + " kernel and stride must be at least 1 and the padding at least 0.");
  const int64_t span = in + 2 * pad - window + stride - 1;  // may be negative: round down, not to 0
  int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  if ((out - 1) * stride >= in + pad) --out;
  require(out >= 1, op + ": the " + axis + " kernel (" + std::to_string(window) + ") leaves no window in the input (" +
                        std::to_string(in) + " + 2 x " + std::to_string(pad) + ").");
  return out;
}

struct Pool2d final : Op {
  Pool2d(bool max, Size2 kernel, Size2 stride, Size2 padding, ops::MaxPool2dOptions m, ops::AvgPool2dOptions a)
      : max_(max), kernel_(kernel), stride_(stride), padding_(padding), dilation_(max ? m.dilation : Size2{1, 1}),
        ceil_mode_(max ? m.ceil_mode : a.ceil_mode), count_include_pad_(a.count_include_pad),
        divisor_(a.divisor_override) {}
  std::string name() const override { return max_ ? "max_pool2d" : "avg_pool2d"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& x = in[0];
    require(x.size() == 4 && element_count(x) >= 1,
            name() + ": the input must be (B, C, H, W), but it is " + to_string(x) + ".");
    require(dilation_.h >= 1 && dilation_.w >= 1, name() + ": the dilation must be at least 1.");
    require(divisor_ >= 0 && divisor_ <= (int64_t{1} << 24),
            name() + ": the divisor_override must be from 1 to 2^24 (or 0 for none).");
    // PyTorch's rule (on the kernel, not the dilated window).
    require(padding_.h <= kernel_.h / 2 && padding_.w <= kernel_.w / 2,
            name() + ": the padding must be at most half the kernel size.");
    return {{x[0], x[1], pooled_size(x[2], kernel_.h, stride_.h, padding_.h, dilation_.h, ceil_mode_, name(), "height"),
             pooled_size(x[3], kernel_.w, stride_.w, padding_.w, dilation_.w, ceil_mode_, name(), "width")}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape &x = n.in_shape[0], &y = n.out_shape[0];
    const uint64_t in_count = x[1] * x[2] * x[3], out_count = y[1] * y[2] * y[3];
    // A lane's four outputs are one vec4 when every batch item's outputs are whole vec4s.
    const bool vec4_store = out_count % 4 == 0;
    // The average's windows are clipped at this border around the input before they are counted;
    // all have the kernel's size unless ceil_mode lets one overhang it or the padding is not counted.
    const Size2 border = count_include_pad_ ? padding_ : Size2{0, 0};
    const bool whole_windows = !ceil_mode_ && border.h == padding_.h && border.w == padding_.w;
    const bool window_divisor = !max_ && !divisor_ && !whole_windows;
    const int64_t divisor = divisor_ ? divisor_ : kernel_.h * kernel_.w;
    Dispatch d{name(), max_ ? std::span<const uint32_t>(max_pool2d_spv) : std::span<const uint32_t>(avg_pool2d_spv),
               {{n.in[0], 0, in_count}, {n.out[0], 0, out_count, 0, vec4_store ? BindAs::Vec4Storage : BindAs::Storage}},
               {u32(x[1]), u32(x[2]), u32(x[3]), u32(y[2]), u32(y[3]), u32(kernel_.h), u32(kernel_.w), u32(stride_.h),
                u32(stride_.w), u32(padding_.h), u32(padding_.w), u32(dilation_.h), u32(dilation_.w), u32(border.h),
                u32(border.w), u32(divisor)}};
    d.batches = x[0];
    d.groups_per_batch = ceil_div(out_count, 4 * threads_per_group(d.spirv));
    d.specialization = {vec4_store, window_divisor, dilation_.h != 1 || dilation_.w != 1};
    return d;
  }

  bool is_2x2_max_pool() const override {
    return max_ && kernel_.h == 2 && kernel_.w == 2 && stride_.h == 2 && stride_.w == 2 && padding_.h == 0 &&
           padding_.w == 0 && dilation_.h == 1 && dilation_.w == 1 && !ceil_mode_;
  }

  double flops(const NodeShapes& n) const override {
    return double(element_count(n.out_shape[0])) * kernel_.h * kernel_.w;
  }

 private:
  bool max_;
  Size2 kernel_, stride_, padding_, dilation_;
  bool ceil_mode_, count_include_pad_;
  int64_t divisor_;  // 0: none
};

}  // namespace

TensorId ops::max_pool2d(Graph& g, TensorId x, Size2 kernel, Size2 stride, Size2 padding, MaxPool2dOptions options) {
  return add(g, std::make_shared<Pool2d>(true, kernel, stride, padding, options, AvgPool2dOptions{}), {x})[0];
}

TensorId ops::avg_pool2d(Graph& g, TensorId x, Size2 kernel, Size2 stride, Size2 padding, AvgPool2dOptions options) {
  return add(g, std::make_shared<Pool2d>(false, kernel, stride, padding, MaxPool2dOptions{}, options), {x})[0];
}

// {"type": "max_pool2d", "kernel": [h, w], "stride": [h, w], "padding": [h, w], "dilation": [h, w],
//  "ceil_mode": bool}
// {"type": "avg_pool2d", "kernel", "stride", "padding", "ceil_mode", "count_include_pad": bool,
//  "divisor_override": n}
// As torch.nn.MaxPool2d / AvgPool2d: the stride defaults to the kernel, the padding to 0, the
// dilation to 1, ceil_mode to false, count_include_pad to true, divisor_override to none (else
// 1 to 2^20); one number serves both axes.
static LayerType pool_layer(bool max) {
  std::vector<std::string> keys = {"kernel", "stride", "padding", "ceil_mode"};
  if (max) keys.push_back("dilation");
  else keys.insert(keys.end(), {"count_include_pad", "divisor_override"});
  return {keys, false, [max](const LayerSpec& spec) -> AddLayer {
            require(spec.has("kernel"), std::string("a ") + (max ? "max" : "avg") + "_pool2d layer needs a \"kernel\" size.");
            const Size2 kernel = spec.size2("kernel", {}), stride = spec.size2("stride", kernel),
                        padding = spec.size2("padding", {0, 0});
            const ops::MaxPool2dOptions m{spec.size2("dilation", {1, 1}), spec.flag("ceil_mode", false)};
            const ops::AvgPool2dOptions a{spec.flag("ceil_mode", false), spec.flag("count_include_pad", true),
                                          spec.integer("divisor_override", 0)};
            require(!spec.has("divisor_override") || a.divisor_override >= 1,
                    "its \"divisor_override\" must be a whole number from 1 to 2^20, but it is 0.");
            return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
              const TensorId x = in[0];
              return max ? ops::max_pool2d(g, x, kernel, stride, padding, m) : ops::avg_pool2d(g, x, kernel, stride, padding, a);
            };
          }};
}

void register_pool2d(Registry& r) {
  r.add("max_pool2d", pool_layer(true));
  r.add("avg_pool2d", pool_layer(false));
}

}  // namespace vkattn
