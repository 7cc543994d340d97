#include "composite.h"

#include "composite.frag.spv.h"

Composite::Composite(VkDevice device, const GpuImage& target, const GpuImage& frame, const GpuImage& heat,
                     const GpuImage& gallery, float split, uint32_t columns, uint32_t rows)
    : device_(device), push_{split, 0.55f, columns, rows} {  // 55 % heat, as the samples' PNG overlays
  VkSamplerCreateInfo sci{VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO};
  sci.magFilter = sci.minFilter = VK_FILTER_LINEAR;
  sci.addressModeU = sci.addressModeV = sci.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE;
  check(vkCreateSampler(device, &sci, nullptr, &sampler_), "vkCreateSampler");
  VkDescriptorSetLayoutBinding bindings[3];
  for (uint32_t b = 0; b < 3; ++b)
    bindings[b] = {b, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_FRAGMENT_BIT, nullptr};
  VkDescriptorSetLayoutCreateInfo lci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, nullptr, 0, 3, bindings};
  check(vkCreateDescriptorSetLayout(device, &lci, nullptr, &set_layout_), "vkCreateDescriptorSetLayout");
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 3};
  VkDescriptorPoolCreateInfo pci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, nullptr, 0, 1, 1, &size};
  check(vkCreateDescriptorPool(device, &pci, nullptr, &pool_), "vkCreateDescriptorPool");
  VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, nullptr, pool_, 1, &set_layout_};
  check(vkAllocateDescriptorSets(device, &ai, &set_), "vkAllocateDescriptorSets");
  // All three stay in GENERAL: the frame's render pass leaves it there, and vkattn writes the other
  // two there (ImageOutput).
  const VkDescriptorImageInfo images[3] = {{sampler_, frame.view, VK_IMAGE_LAYOUT_GENERAL},
                                           {sampler_, heat.view, VK_IMAGE_LAYOUT_GENERAL},
                                           {sampler_, gallery.view, VK_IMAGE_LAYOUT_GENERAL}};
  VkWriteDescriptorSet writes[3];
  for (uint32_t b = 0; b < 3; ++b)
    writes[b] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, nullptr, set_, b, 0, 1,
                 VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, &images[b], nullptr, nullptr};
  vkUpdateDescriptorSets(device, 3, writes, 0, nullptr);

  PassSpec spec;
  spec.target = &target;
  spec.final_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
  spec.fragment = composite_frag_spv;
  spec.push_bytes = sizeof(Push);
  spec.set_layout = set_layout_;
  // Sync: the previous frame's copy of the target is done before this pass clears it; the colour
  // writes (and the final layout transition) are done before the copy after it. The sampled
  // images need nothing here: the frame's pass orders its writes before fragment shaders, and
  // vkattn's exit barrier orders its writes before every later command.
  spec.dependencies = {
      {VK_SUBPASS_EXTERNAL, 0, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, 0,
       VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, 0},
      {0, VK_SUBPASS_EXTERNAL, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
       VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT, 0}};
  pass_ = std::make_unique<FullscreenPass>(device, spec);
}

Composite::~Composite() {
  pass_.reset();
  vkDestroyDescriptorPool(device_, pool_, nullptr);
  vkDestroyDescriptorSetLayout(device_, set_layout_, nullptr);
  vkDestroySampler(device_, sampler_, nullptr);
}

void Composite::record(VkCommandBuffer cmd) const { pass_->record(cmd, &push_, set_); }
