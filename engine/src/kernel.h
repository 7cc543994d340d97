// One compute pipeline (specialization constants 0, 1, ... set to `specialization`, the rest
// at their defaults): a shader's module, descriptor-set layout (storage buffers, and combined
// image samplers, storage images and uniform and uniform texel buffers where the shader declares
// them), push constant range and pipeline, built once from embedded SPIR-V.
#pragma once
#include <span>
#include <string>
#include <vulkan/vulkan_raii.hpp>

#include "vkattn/context.h"  // DeviceInfo only

namespace vkattn {

class Kernel {
 public:
  // push_bytes is the size the host will push; it must equal the shader's block or this throws.
  // Needs only the device, its limits and a pipeline cache, so it does not depend on Context.
  Kernel(const vk::raii::Device& device, const DeviceInfo& info, const vk::raii::PipelineCache& cache,
         const std::string& name, std::span<const uint32_t> spirv, uint32_t push_bytes,
         std::span<const uint32_t> specialization = {});

  const std::string name;
  uint32_t bindings = 0;
  uint32_t sampled_image_mask = 0;   // bit b: binding b is a combined image sampler
  uint32_t storage_image_mask = 0;   // bit b: binding b is a storage image
  uint32_t uniform_buffer_mask = 0;  // bit b: binding b is a uniform buffer
  uint32_t texel_buffer_mask = 0;    // bit b: binding b is a uniform texel buffer
  vk::DescriptorType type(uint32_t binding) const;
  uint32_t push_bytes = 0;
  vk::raii::DescriptorSetLayout set_layout{nullptr};
  vk::raii::PipelineLayout layout{nullptr};
  vk::raii::Pipeline pipeline{nullptr};
};

}  // namespace vkattn
