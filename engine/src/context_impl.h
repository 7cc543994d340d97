// What a Context holds. Members are declared in dependency order so that they are destroyed
// children-first; an adopted instance and device are released, never destroyed.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vulkan/vulkan_raii.hpp>

#include "kernel.h"
#include "vulkan_call.h"
#include "vkattn/context.h"
#include "vkattn/error.h"

namespace vkattn {

struct Context::Impl {
  vk::raii::Context loader;
  vk::raii::Instance instance{nullptr};
  vk::raii::DebugUtilsMessengerEXT messenger{nullptr};
  vk::raii::PhysicalDevice physical{nullptr};
  vk::raii::Device device{nullptr};
  vk::raii::Queue queue{nullptr};
  uint32_t queue_family = 0;
  vk::raii::CommandPool command_pool{nullptr};
  vk::raii::PipelineCache pipeline_cache{nullptr};
  std::map<std::string, std::unique_ptr<Kernel>> kernels;

  DeviceInfo info;
  vk::PhysicalDeviceMemoryProperties memory;
  bool adopted = false;
  std::function<void(const std::string&)> on_validation_message;

  explicit Impl(PFN_vkGetInstanceProcAddr gipa) : loader(gipa) {}
  ~Impl();

  // The pipeline for one shader, built on first use and kept for the Context's lifetime.
  const Kernel& kernel(const std::string& name, std::span<const uint32_t> spirv, uint32_t push_bytes,
                       std::span<const uint32_t> specialization = {});
  // Records with `record` into a fresh command buffer, submits it and waits (uploads, copies).
  void run_once(const std::function<void(vk::CommandBuffer)>& record);
};

}  // namespace vkattn
