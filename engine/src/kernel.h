// One compute pipeline: a shader's module, descriptor-set layout (storage buffers only), push
// constant range and pipeline, built once from embedded SPIR-V.
#pragma once
#include <span>
#include <string>
#include <vulkan/vulkan_raii.hpp>

#include "vkattn/context.h"

namespace vkattn {

class Kernel {
 public:
  // push_bytes is the size the host will push; it must equal the shader's block or this throws.
  Kernel(Context::Impl& context, const std::string& name, std::span<const uint32_t> spirv, uint32_t push_bytes);

  const std::string name;
  uint32_t bindings = 0;
  uint32_t push_bytes = 0;
  vk::raii::DescriptorSetLayout set_layout{nullptr};
  vk::raii::PipelineLayout layout{nullptr};
  vk::raii::Pipeline pipeline{nullptr};
};

}  // namespace vkattn
