// A render pass that draws one triangle over its whole target with a fragment shader: how the
// embed sample draws its scene and composites vkattn's outputs over it.
#pragma once
#include <vulkan/vulkan.h>

#include <span>
#include <vector>

#include "gpu_image.h"

struct PassSpec {
  const GpuImage* target = nullptr;  // the colour attachment, one layer
  VkFormat format = VK_FORMAT_R8G8B8A8_UNORM;
  VkImageLayout final_layout = VK_IMAGE_LAYOUT_GENERAL;  // where the pass leaves the target
  std::span<const uint32_t> fragment;                     // SPIR-V; scene.vert is the vertex shader
  uint32_t push_bytes = 0;                                // the fragment shader's push constants
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;      // its set 0, if any
  std::vector<VkSubpassDependency> dependencies;          // with the commands before and after it
};

class FullscreenPass {
 public:
  FullscreenPass(VkDevice device, const PassSpec& spec);
  ~FullscreenPass();
  FullscreenPass(const FullscreenPass&) = delete;
  FullscreenPass& operator=(const FullscreenPass&) = delete;
  // Records the pass: the target cleared to black, then the triangle.
  void record(VkCommandBuffer cmd, const void* push, VkDescriptorSet set = VK_NULL_HANDLE) const;

 private:
  VkDevice device_;
  uint32_t width_, height_, push_bytes_;
  VkRenderPass render_pass_ = VK_NULL_HANDLE;
  VkFramebuffer framebuffer_ = VK_NULL_HANDLE;
  VkShaderModule vertex_ = VK_NULL_HANDLE, fragment_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
};
