// A graph output into an application's storage image, mapped and clamped per format
// (shaders/image_output.glsl).
#include "image_output.h"

#include <cmath>
#include <tuple>

#include "image_output_r32f.spv.h"
#include "image_output_rgba16f.spv.h"
#include "image_output_rgba32f.spv.h"
#include "image_output_rgba8.spv.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

// How the kernel treats values for each format: its range and whether it encodes sRGB.
enum Encoding : uint32_t { unorm = 0, srgb = 1, half = 2, full = 3 };

struct ImageOutputOp final : Op {
  ImageOutputOp(const ImageOutput& image) : image_(image) {}
  std::string name() const override { return "image_output"; }
  std::vector<Shape> infer(std::span<const Shape>) const override { return {}; }  // writes no tensor

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& shape = n.in_shape[0];
    const uint32_t B = u32(shape[0]), C = u32(shape[1]), H = u32(shape[2]), W = u32(shape[3]);
    const auto [kernel, spirv, encoding] = [&]() -> std::tuple<const char*, std::span<const uint32_t>, Encoding> {
      switch (image_.format) {
        case VK_FORMAT_R8G8B8A8_UNORM: return {"image_output_rgba8", image_output_rgba8_spv, unorm};
        case VK_FORMAT_R8G8B8A8_SRGB: return {"image_output_rgba8", image_output_rgba8_spv, srgb};
        case VK_FORMAT_R16G16B16A16_SFLOAT: return {"image_output_rgba16f", image_output_rgba16f_spv, half};
        case VK_FORMAT_R32G32B32A32_SFLOAT: return {"image_output_rgba32f", image_output_rgba32f_spv, full};
        default: return {"image_output_r32f", image_output_r32f_spv, full};
      }
    }();
    const bool viridis = image_.colour_map == ImageOutput::ColourMap::viridis;
    Dispatch d{kernel, spirv, {{n.in[0]}}, {W, H, C, B, encoding, viridis ? 1u : 0u, bits(image_.scale), bits(image_.bias)}};
    for (float c : image_.nan_colour) d.push.push_back(bits(c));
    d.groups_per_batch = ceil_div(uint64_t(W) * H * B, threads_per_group(spirv));
    return d;
  }

  double flops(const NodeShapes& n) const override { return 2.0 * element_count(n.in_shape[0]); }

  ImageOutput image_;
};

}  // namespace

VkFormat image_output_view_format(VkFormat format) {
  return format == VK_FORMAT_R8G8B8A8_SRGB ? VK_FORMAT_R8G8B8A8_UNORM : format;
}

std::shared_ptr<const Op> image_output(const std::string& name, const Shape& shape, const ImageOutput& image) {
  const std::string the = "The image for output '" + name + "'";
  const auto format = image.format;
  require(format == VK_FORMAT_R8G8B8A8_UNORM || format == VK_FORMAT_R8G8B8A8_SRGB ||
              format == VK_FORMAT_R16G16B16A16_SFLOAT || format == VK_FORMAT_R32G32B32A32_SFLOAT ||
              format == VK_FORMAT_R32_SFLOAT,
          the + " must be R8G8B8A8_UNORM, R8G8B8A8_SRGB, R16G16B16A16_SFLOAT, R32G32B32A32_SFLOAT or R32_SFLOAT.");
  require(shape.size() == 4 && (shape[1] == 1 || shape[1] == 3 || shape[1] == 4),
          "Output '" + name + "' goes into an image, so it must be (B, C, H, W) with C = 1, 3 or 4, but it is " +
              to_string(shape) + ".");
  require(format != VK_FORMAT_R32_SFLOAT || (shape[1] == 1 && image.colour_map == ImageOutput::ColourMap::grey),
          the + " is R32_SFLOAT, which holds one channel: the output must have C = 1 and no colour map.");
  require(image.colour_map == ImageOutput::ColourMap::grey || shape[1] == 1,
          "Output '" + name + "' has " + std::to_string(shape[1]) + " channels; a colour map takes one.");
  require(image.image != VK_NULL_HANDLE, the + " has no VkImage handle.");
  require(image.usage & VK_IMAGE_USAGE_STORAGE_BIT,
          the + " needs VK_IMAGE_USAGE_STORAGE_BIT (vkattn writes it from a compute shader).");
  require(format != VK_FORMAT_R8G8B8A8_SRGB || ((image.flags & VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT) &&
                                                (image.flags & VK_IMAGE_CREATE_EXTENDED_USAGE_BIT)),
          the + " is R8G8B8A8_SRGB, which vkattn writes through an R8G8B8A8_UNORM view: create it with "
                "VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT and VK_IMAGE_CREATE_EXTENDED_USAGE_BIT and say so in "
                "ImageOutput::flags.");
  require(image.width == uint64_t(shape[3]) && image.height == uint64_t(shape[2]),
          the + " is " + std::to_string(image.width) + " x " + std::to_string(image.height) +
              " pixels, but the output is " + std::to_string(shape[3]) + " x " + std::to_string(shape[2]) +
              " (W x H).");
  require(image.layers == uint64_t(shape[0]),
          the + " has " + std::to_string(image.layers) + " array layers, but the output has a batch of " +
              std::to_string(shape[0]) + " (one layer per item).");
  for (float v : {image.scale, image.bias, image.nan_colour[0], image.nan_colour[1], image.nan_colour[2], image.nan_colour[3]})
    require(std::isfinite(v), the + " has a scale, bias or NaN colour that is not a finite number.");
  return std::make_shared<ImageOutputOp>(image);
}

// Not a layer: the executor puts it after the graph's nodes for an output written into an image.
void register_image_output(Registry& r) { r.add("image_output"); }

}  // namespace vkattn
