#include "kernel.h"

#include <vector>

#include "spirv_reflect.h"
#include "vulkan_call.h"
#include "vkattn/error.h"

namespace vkattn {

Kernel::Kernel(const vk::raii::Device& device, const DeviceInfo& info, const vk::raii::PipelineCache& cache,
               const std::string& kernel_name, std::span<const uint32_t> spirv, uint32_t host_push_bytes,
               std::span<const uint32_t> specialization)
    : name(kernel_name) {
  const ShaderInterface shader = reflect(spirv);
  if (shader.push_constant_bytes != host_push_bytes)
    throw Error("Kernel '" + name + "' pushes " + std::to_string(host_push_bytes) + " bytes but its shader declares " +
                std::to_string(shader.push_constant_bytes) + "; the host and shader structs disagree.");
  const uint32_t invocations = shader.local_size[0] * shader.local_size[1] * shader.local_size[2];
  if (invocations > info.max_workgroup_invocations || shader.local_size[0] > info.max_workgroup_size[0] ||
      shader.local_size[1] > info.max_workgroup_size[1])
    throw DeviceLimitError("Kernel '" + name + "' needs workgroups of " + std::to_string(invocations) +
                " invocations, more than this device allows (" + std::to_string(info.max_workgroup_invocations) + ").");
  if (host_push_bytes > 128)
    throw Error("Kernel '" + name + "' needs more push-constant space than Vulkan guarantees.");
  bindings = shader.bindings;
  sampled_image_mask = shader.sampled_image_mask;
  storage_image_mask = shader.storage_image_mask;
  uniform_buffer_mask = shader.uniform_buffer_mask;
  texel_buffer_mask = shader.texel_buffer_mask;
  push_bytes = host_push_bytes;

  vulkan_call("building the pipeline for kernel '" + name + "'", [&] {
    std::vector<vk::DescriptorSetLayoutBinding> slots;
    for (uint32_t b = 0; b < bindings; ++b)
      slots.emplace_back(b, type(b), 1, vk::ShaderStageFlagBits::eCompute);
    set_layout = vk::raii::DescriptorSetLayout(device, vk::DescriptorSetLayoutCreateInfo({}, slots));
    const vk::PushConstantRange range(vk::ShaderStageFlagBits::eCompute, 0, push_bytes);
    const vk::DescriptorSetLayout set_layout_handle = *set_layout;
    vk::PipelineLayoutCreateInfo layout_info({}, set_layout_handle);
    if (push_bytes) layout_info.setPushConstantRanges(range);
    layout = vk::raii::PipelineLayout(device, layout_info);
    vk::raii::ShaderModule module(device, vk::ShaderModuleCreateInfo({}, spirv.size_bytes(), spirv.data()));
    std::vector<vk::SpecializationMapEntry> entries;
    for (uint32_t id = 0; id < specialization.size(); ++id) entries.emplace_back(id, 4 * id, 4);
    const vk::SpecializationInfo constants(static_cast<uint32_t>(entries.size()), entries.data(),
                                           specialization.size_bytes(), specialization.data());
    vk::ComputePipelineCreateInfo pipeline_info(
        {}, vk::PipelineShaderStageCreateInfo({}, vk::ShaderStageFlagBits::eCompute, *module, "main",
                                              specialization.empty() ? nullptr : &constants),
        *layout);
    pipeline = vk::raii::Pipeline(device, cache, pipeline_info);
  });
}

vk::DescriptorType Kernel::type(uint32_t binding) const {
  if ((sampled_image_mask >> binding) & 1) return vk::DescriptorType::eCombinedImageSampler;
  if ((storage_image_mask >> binding) & 1) return vk::DescriptorType::eStorageImage;
  if ((uniform_buffer_mask >> binding) & 1) return vk::DescriptorType::eUniformBuffer;
  if ((texel_buffer_mask >> binding) & 1) return vk::DescriptorType::eUniformTexelBuffer;
  return vk::DescriptorType::eStorageBuffer;
}

}  // namespace vkattn
