// What a Context holds. Members are declared in dependency order so that they are destroyed
// children-first; an adopted instance and device are released, never destroyed.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vulkan/vulkan_raii.hpp>

#include "kernel.h"
#include "pipeline_cache.h"
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
  // The pipeline cache's file (empty: none) and key, the driver data it was seeded with, and
  // whether a pipeline was built since: then the cache is saved when the Context goes.
  std::filesystem::path pipeline_cache_file;
  PipelineCacheKey pipeline_cache_key;
  std::vector<uint8_t> pipeline_cache_loaded;
  bool pipeline_built = false;
  // Device memory: the budget from ContextOptions (0: none), what this Context's buffers hold
  // in each heap, and whether the device reports each heap's budget (VK_EXT_memory_budget).
  uint64_t memory_budget = 0;
  std::vector<uint64_t> heap_used;
  bool has_memory_budget_extension = false;
  // Set once a Vulkan call reported the device lost; every later use is refused.
  bool device_lost = false;
  // Executors on one Context may be made, run and destroyed from several threads: the command
  // pool, the queue and the maps above are Vulkan's and ours to synchronise, under this lock.
  std::recursive_mutex mutex;
  // The process that made the Context: a child forked from it shares its memory but not the
  // driver's threads or the device, so every use there is refused and nothing is destroyed.
  pid_t owner = ::getpid();
  bool forked() const { return ::getpid() != owner; }

  DeviceInfo info;
  vk::PhysicalDeviceMemoryProperties memory;
  bool adopted = false;
  std::function<void(const std::string&)> on_validation_message;

  explicit Impl(PFN_vkGetInstanceProcAddr gipa) : loader(gipa) {}
  ~Impl();

  // The pipeline for one shader, built on first use and kept for the Context's lifetime.
  const Kernel& kernel(const std::string& name, std::span<const uint32_t> spirv, uint32_t push_bytes,
                       std::span<const uint32_t> specialization = {});
  // Throws an Error in a forked child.
  void refuse_if_forked() const;
  // That, and a DeviceLostError once the device has been lost.
  void refuse_if_unusable() const;
  // Runs a Vulkan step (as vulkan_call) on this device: refused once the device is lost, and a
  // loss it meets is remembered, so that every later step is refused too.
  template <class F>
  auto guarded(const std::string& what, F&& f) -> decltype(f()) {
    refuse_if_unusable();
    try {
      return vulkan_call(what, std::forward<F>(f));
    } catch (const DeviceLostError&) {
      device_lost = true;
      throw;
    }
  }
  // Records with `record` into a fresh command buffer, submits it and waits (uploads, copies).
  void run_once(const std::function<void(vk::CommandBuffer)>& record);
};

}  // namespace vkattn
