// Each item's box of its image, resized bilinearly (shaders/crop_resize.comp).
#include "crop_resize.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct CropResize final : Op {
  explicit CropResize(Size2 size) : size_(size) {}
  std::string name() const override { return "crop_resize"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape &x = in[0], &boxes = in[1];
    require(x.size() == 4 && element_count(x) >= 1,
            name() + ": the image must be (B, C, H, W), but it is " + to_string(x) + ".");
    require(boxes == Shape{x[0], 4}, name() + ": the boxes must be (" + std::to_string(x[0]) +
                                         ", 4) for images " + to_string(x) + ", but they are " + to_string(boxes) + ".");
    require(size_.h >= 1 && size_.w >= 1 && size_.h <= (1 << 16) && size_.w <= (1 << 16),
            name() + ": the output size must be from 1 to 65536 a side, but it is " + std::to_string(size_.h) + "x" +
                std::to_string(size_.w) + ".");
    return {{x[0], x[1], size_.h, size_.w}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& x = n.in_shape[0];
    const uint64_t out_count = x[1] * size_.h * size_.w;
    Dispatch d{name(), crop_resize_spv, {{n.in[0], 0, uint64_t(x[1] * x[2] * x[3])}, {n.in[1], 0, 4}, {n.out[0], 0, out_count}},
               {u32(x[1]), u32(x[2]), u32(x[3]), u32(size_.h), u32(size_.w)}};
    d.batches = x[0];
    d.groups_per_batch = ceil_div(out_count, threads_per_group(crop_resize_spv));
    return d;
  }

  double flops(const NodeShapes& n) const override { return 8.0 * double(element_count(n.out_shape[0])); }

 private:
  Size2 size_;
};

}  // namespace

TensorId ops::crop_resize(Graph& g, TensorId image, TensorId boxes, Size2 size) {
  return add(g, std::make_shared<CropResize>(size), {image, boxes})[0];
}

// Part of the attention_crop layer.
void register_crop_resize(Registry& r) { r.add("crop_resize"); }

}  // namespace vkattn
