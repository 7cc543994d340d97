// The embed sample's second graphics pass: reads the rendered frame, vkattn's heatmap image and
// vkattn's gallery of generated pictures (all three sampled in GENERAL layout) and draws the
// frame with the heatmap over it above a grid of the pictures (composite.frag).
#pragma once
#include <memory>

#include "fullscreen_pass.h"

class Composite {
 public:
  // target: the picture to draw (left in TRANSFER_SRC_OPTIMAL for the copy to the host);
  // split: the share of its height the frame takes; columns x rows: the gallery's grid.
  Composite(VkDevice device, const GpuImage& target, const GpuImage& frame, const GpuImage& heat,
            const GpuImage& gallery, float split, uint32_t columns, uint32_t rows);
  ~Composite();
  Composite(const Composite&) = delete;
  Composite& operator=(const Composite&) = delete;
  void record(VkCommandBuffer cmd) const;

 private:
  struct Push {
    float split, heat_weight;
    uint32_t columns, rows;
  };
  VkDevice device_;
  Push push_;
  VkSampler sampler_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  VkDescriptorSet set_ = VK_NULL_HANDLE;
  std::unique_ptr<FullscreenPass> pass_;
};
