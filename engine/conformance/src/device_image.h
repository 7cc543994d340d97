// A storage image on a Context's device for the image-output cases: made, filled with a
// sentinel (so a texel the kernel misses shows), left in GENERAL, and read back whole.
#pragma once
#include <vulkan/vulkan_raii.hpp>

#include <vector>

#include "context_impl.h"
#include "vkattn/executor.h"

namespace vkattn::conformance {

class DeviceImage {
 public:
  // Takes format, width, height and layers from `want`; a DeviceLimitError where the device
  // cannot store to the format (the case is skipped).
  DeviceImage(Context& ctx, const ImageOutput& want);
  // `want` with this image's handle, usage and flags: what ExecutorOptions::image_outputs takes.
  const ImageOutput& output() const { return output_; }
  // Every layer's texels, tightly packed (the image must be idle).
  std::vector<unsigned char> read();

 private:
  vk::ImageMemoryBarrier barrier(vk::AccessFlags from, vk::AccessFlags to, vk::ImageLayout old_layout,
                                 vk::ImageLayout new_layout) const;
  Context::Impl& ctx_;
  ImageOutput output_;
  vk::raii::Image image_{nullptr};
  vk::raii::DeviceMemory memory_{nullptr};
};

}  // namespace vkattn::conformance
