// An application image to a (1, C, H, W) tensor: resize by box-filtered sampling, then normalise
// (shaders/image_to_tensor.comp).
#include "image_input.h"

#include <algorithm>

#include "image_to_tensor.spv.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct ImageInput final : Op {
  ImageInput(const ExternalImage& image) : image_(image) {}
  std::string name() const override { return "image_to_tensor"; }
  std::vector<Shape> infer(std::span<const Shape>) const override { return {}; }  // writes a graph input

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& shape = n.out_shape[0];
    const uint32_t H = u32(shape[2]), W = u32(shape[3]);
    // Enough taps per pixel to cover its footprint in the image when shrinking, at most 8 a side.
    const uint32_t taps_x = std::clamp<uint32_t>((image_.width + W - 1) / W, 1, 8);
    const uint32_t taps_y = std::clamp<uint32_t>((image_.height + H - 1) / H, 1, 8);
    Dispatch d{name(), image_to_tensor_spv, {{n.out[0]}}, {W, H, u32(shape[1]), taps_x, taps_y}};
    for (float m : image_.mean) d.push.push_back(bits(m));
    for (float s : image_.std) d.push.push_back(bits(1.f / s));
    d.groups_per_batch = ceil_div(uint64_t(W) * H, threads_per_group(image_to_tensor_spv));
    return d;
  }

  double flops(const NodeShapes& n) const override { return 4.0 * element_count(n.out_shape[0]); }

  ExternalImage image_;
};

}  // namespace

std::shared_ptr<const Op> image_input(const std::string& name, const Shape& shape, const ExternalImage& image) {
  require(shape.size() == 4 && shape[0] == 1 && (shape[1] == 1 || shape[1] == 3 || shape[1] == 4),
          "Input '" + name + "' comes from an image, so it must be (1, C, H, W) with C = 1, 3 or 4, but it is " +
              to_string(shape) + ".");
  const auto format = image.format;
  require(format == VK_FORMAT_R8G8B8A8_UNORM || format == VK_FORMAT_R8G8B8A8_SRGB ||
              format == VK_FORMAT_R16G16B16A16_SFLOAT || format == VK_FORMAT_R32G32B32A32_SFLOAT,
          "The image for input '" + name + "' must be RGBA8 (unorm or sRGB), RGBA16F or RGBA32F.");
  require(image.layout == VK_IMAGE_LAYOUT_GENERAL || image.layout == VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
          "The image for input '" + name + "' must be in GENERAL or SHADER_READ_ONLY_OPTIMAL layout.");
  require(image.image && image.width != 0 && image.height != 0,
          "The image for input '" + name + "' needs a handle, a width and a height.");
  for (int c = 0; c < 4; ++c)
    require(image.std[c] != 0,
            "The image for input '" + name + "' has a std of 0 for channel " + std::to_string(c) + ".");
  return std::make_shared<ImageInput>(image);
}

// Not a layer: the executor puts it at the head of a graph whose input comes from an image.
void register_image_input(Registry& r) { r.add("image_to_tensor"); }

}  // namespace vkattn
