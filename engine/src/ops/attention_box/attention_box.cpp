// Hard attention's box from a heatmap (shaders/attention_box.comp): one workgroup per item. A
// heatmap holding NaN gives the whole image, as vkattn.nn.attention_boxes (PyTorch) does.
#include "attention_box.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct AttentionBox final : Op {
  AttentionBox(Size2 grid, Size2 image, float threshold) : grid_(grid), image_(image), threshold_(threshold) {}
  std::string name() const override { return "attention_box"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require(grid_.h >= 1 && grid_.w >= 1 && image_.h >= 1 && image_.w >= 1,
            name() + ": the grid and the image need at least one row and column.");
    require(threshold_ >= 0.f && threshold_ <= 1.f,
            name() + ": the threshold must lie in [0, 1], but it is " + std::to_string(threshold_) + ".");
    // The pixel arithmetic (r1 + 1) * H runs in 32 bits.
    require(grid_.h * image_.h < (int64_t{1} << 32) && grid_.w * image_.w < (int64_t{1} << 32),
            name() + ": the grid and the image are too large together.");
    const Shape& r = in[0];
    require(r.size() == 2 && r[0] >= 1 && r[1] == grid_.h * grid_.w,
            name() + ": the heatmap must be (B, " + std::to_string(grid_.h * grid_.w) + ") for a " +
                std::to_string(grid_.h) + "x" + std::to_string(grid_.w) + " grid, but it is " + to_string(r) + ".");
    return {{r[0], 4}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const uint64_t cells = n.in_shape[0][1];
    Dispatch d{name(), attention_box_spv, {{n.in[0], 0, cells}, {n.out[0], 0, 4}},
               {u32(grid_.h), u32(grid_.w), u32(image_.h), u32(image_.w), bits(threshold_)}};
    d.batches = n.in_shape[0][0];
    d.groups_per_batch = 1;
    return d;
  }

  double flops(const NodeShapes& n) const override { return 2.0 * double(element_count(n.in_shape[0])); }

 private:
  Size2 grid_, image_;
  float threshold_;
};

}  // namespace

TensorId ops::attention_box(Graph& g, TensorId heatmap, Size2 grid, Size2 image, float threshold) {
  return add(g, std::make_shared<AttentionBox>(grid, image, threshold), {heatmap})[0];
}

// Part of the attention_crop layer.
void register_attention_box(Registry& r) { r.add("attention_box"); }

}  // namespace vkattn
