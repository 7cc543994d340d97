#include "device_image.h"

#include <cmath>

#include "buffer.h"
#include "ops/image_output/image_output.h"
#include "vkattn/image_check.h"

namespace vkattn::conformance {
namespace {

vk::ImageSubresourceRange all_layers(uint32_t layers) { return {vk::ImageAspectFlagBits::eColor, 0, 1, 0, layers}; }

}  // namespace

vk::ImageMemoryBarrier DeviceImage::barrier(vk::AccessFlags from, vk::AccessFlags to, vk::ImageLayout old_layout,
                                            vk::ImageLayout new_layout) const {
  return {from, to, old_layout, new_layout, VK_QUEUE_FAMILY_IGNORED, VK_QUEUE_FAMILY_IGNORED, *image_,
          all_layers(output_.layers)};
}

DeviceImage::DeviceImage(Context& ctx, const ImageOutput& want) : ctx_(ctx.impl()), output_(want) {
  const auto format = static_cast<vk::Format>(want.format);
  const auto view = static_cast<vk::Format>(image_output_view_format(want.format));  // what the executor binds
  if (!(ctx_.physical.getFormatProperties(view).optimalTilingFeatures & vk::FormatFeatureFlagBits::eStorageImage))
    throw DeviceLimitError("This device cannot store to " + vk::to_string(view) + " images from a shader.");
  output_.usage = VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
  output_.flags = want.format == VK_FORMAT_R8G8B8A8_SRGB
                      ? VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT | VK_IMAGE_CREATE_EXTENDED_USAGE_BIT
                      : 0;
  ctx_.guarded("making an image for an image-output case", [&] {
    image_ = vk::raii::Image(
        ctx_.device, vk::ImageCreateInfo(static_cast<vk::ImageCreateFlags>(output_.flags), vk::ImageType::e2D, format,
                                         {want.width, want.height, 1}, 1, want.layers, vk::SampleCountFlagBits::e1,
                                         vk::ImageTiling::eOptimal, static_cast<vk::ImageUsageFlags>(output_.usage)));
    const vk::MemoryRequirements needs = image_.getMemoryRequirements();
    uint32_t type = 0;
    while (!((needs.memoryTypeBits >> type) & 1)) ++type;
    memory_ = vk::raii::DeviceMemory(ctx_.device, vk::MemoryAllocateInfo(needs.size, type));
    image_.bindMemory(*memory_, 0);
  });
  output_.image = *image_;
  // The sentinel: NaN in the float formats, a colour no 8-bit case maps to exactly in the others.
  const bool is_float = want.format != VK_FORMAT_R8G8B8A8_UNORM && want.format != VK_FORMAT_R8G8B8A8_SRGB;
  const float fill = is_float ? NAN : 0.2f;
  using Stage = vk::PipelineStageFlagBits;
  using Access = vk::AccessFlagBits;
  using Layout = vk::ImageLayout;
  ctx_.run_once([&](vk::CommandBuffer cmd) {
    cmd.pipelineBarrier(Stage::eTopOfPipe, Stage::eTransfer, {}, {}, {},
                        barrier({}, Access::eTransferWrite, Layout::eUndefined, Layout::eTransferDstOptimal));
    cmd.clearColorImage(*image_, Layout::eTransferDstOptimal, vk::ClearColorValue(std::array{fill, fill, fill, fill}),
                        all_layers(want.layers));
    // To GENERAL, where vkattn writes it; vkattn's entry barrier orders its kernel after this.
    cmd.pipelineBarrier(Stage::eTransfer, Stage::eTransfer, {}, {}, {},
                        barrier(Access::eTransferWrite, {}, Layout::eTransferDstOptimal, Layout::eGeneral));
  });
}

std::vector<unsigned char> DeviceImage::read() {
  const uint64_t bytes = uint64_t(output_.width) * output_.height * output_.layers * texel_bytes(output_.format);
  Buffer readback(ctx_, bytes, MemoryUse::Host, "an image-output case's readback");
  using Stage = vk::PipelineStageFlagBits;
  using Access = vk::AccessFlagBits;
  using Layout = vk::ImageLayout;
  ctx_.run_once([&](vk::CommandBuffer cmd) {
    // A layout transition is a write of its own: it follows vkattn's shader write explicitly.
    cmd.pipelineBarrier(Stage::eComputeShader, Stage::eTransfer, {}, {}, {},
                        barrier(Access::eShaderWrite, Access::eTransferRead, Layout::eGeneral,
                                Layout::eTransferSrcOptimal));
    const vk::BufferImageCopy region(0, 0, 0, {vk::ImageAspectFlagBits::eColor, 0, 0, output_.layers}, {0, 0, 0},
                                     {output_.width, output_.height, 1});
    cmd.copyImageToBuffer(*image_, Layout::eTransferSrcOptimal, readback.handle(), region);
    const vk::MemoryBarrier to_host(Access::eTransferWrite, Access::eHostRead);
    cmd.pipelineBarrier(Stage::eTransfer, Stage::eHost, {}, to_host, {}, {});
    cmd.pipelineBarrier(Stage::eTransfer, Stage::eTransfer, {}, {}, {},
                        barrier({}, {}, Layout::eTransferSrcOptimal, Layout::eGeneral));
  });
  std::vector<unsigned char> texels(bytes);
  readback.read(texels.data(), 0, bytes);
  return texels;
}

}  // namespace vkattn::conformance
