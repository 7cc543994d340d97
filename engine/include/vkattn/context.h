// A Context is vkattn's hold on one Vulkan device and one compute queue: either created by vkattn
// (instance, device selection, queue) or adopted from an application that already has them.
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vkattn {

struct DeviceInfo {
  uint32_t index = 0;  // position in vkEnumeratePhysicalDevices order
  std::string name;
  std::string type;  // "discrete", "integrated", "virtual", "cpu", "other"
  uint32_t vendor_id = 0, device_id = 0;
  std::string driver_name, driver_info;
  uint32_t api_version = 0, driver_version = 0;
  uint32_t subgroup_size = 0;
  bool shader_float16 = false;
  // storageBuffer16BitAccess, which Precision::fp16 needs: supported (list_devices), enabled on a
  // device vkattn created where supported, and on an adopted one as AdoptedDevice says.
  bool storage_buffer_16bit = false;
  bool timestamps = false;  // the compute queue can write timestamps
  float timestamp_period_ns = 0;
  uint64_t max_storage_buffer_range = 0, max_memory_allocation_size = 0, max_buffer_size = 0;
  uint32_t max_shared_memory = 0, max_workgroup_invocations = 0;
  uint32_t max_workgroup_count[3] = {0, 0, 0}, max_workgroup_size[3] = {0, 0, 0};
  uint32_t min_storage_buffer_offset_alignment = 0;
  uint64_t max_uniform_buffer_range = 0;
  uint32_t min_uniform_buffer_offset_alignment = 0;
  uint64_t max_texel_buffer_elements = 0;
  uint32_t min_texel_buffer_offset_alignment = 0;
  uint64_t device_local_bytes = 0;  // size of the largest device-local heap
  // Which kernel variants run: "cpu" for CPU drivers (lavapipe, SwiftShader: several outputs per
  // lane, weights, keys and values read as vec4 texels), "gpu" otherwise. VKATTN_PROFILE=cpu|gpu
  // forces one.
  std::string profile;
};

// "1.3.239"
std::string version_string(uint32_t vulkan_version);

struct ContextOptions {
  // Index (in enumeration order) or case-insensitive name substring. Empty: the VKATTN_DEVICE
  // environment variable if set, else the first device by discrete > integrated > virtual > CPU.
  std::string device;
  // Turns on VK_LAYER_KHRONOS_validation with synchronization validation. Every warning or error
  // it reports goes to on_validation_message (or stderr if that is empty).
  bool validation = false;
  std::function<void(const std::string&)> on_validation_message;
  // The pipeline cache file, so that a later run skips compiling the pipelines this one built:
  // read when the Context is created, written (atomically) when it is destroyed, if new pipelines
  // were built. Unset: one file per device under $XDG_CACHE_HOME/vkattn/ (else ~/.cache/vkattn/),
  // or none when VKATTN_CACHE=off. A path: that file. An empty string: no file at all. A missing,
  // corrupt or stale file (another driver) is ignored and replaced; a cache never makes a run fail.
  std::optional<std::string> pipeline_cache_path;
  // Device memory, in bytes, that this Context's executors may hold in all (0: no limit of ours).
  // An allocation past it is refused with a DeviceLimitError before the driver is asked, as is
  // one past what a memory heap has free where the device reports it (VK_EXT_memory_budget).
  uint64_t memory_budget = 0;
};

// Handles of an application's Vulkan objects for Context::adopt. vkattn never destroys them and
// never calls vkDeviceWaitIdle or vkQueueWaitIdle on them; the application must keep them alive
// until the Context and everything made from it are destroyed. The device must have been created
// with api version 1.1 or newer; vkattn needs no extension or feature beyond core 1.1 compute
// (Precision::fp16 needs storageBuffer16BitAccess, below).
struct AdoptedDevice {
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;  // must support compute
  uint32_t queue_family = 0;
  PFN_vkGetInstanceProcAddr get_instance_proc_addr = vkGetInstanceProcAddr;
  // Set when the device was created with storageBuffer16BitAccess enabled
  // (VkPhysicalDevice16BitStorageFeatures or VkPhysicalDeviceVulkan11Features): executors with
  // Precision::fp16 need it.
  bool storage_buffer_16bit = false;
};

class Context {
 public:
  static Context create(const ContextOptions& options = {});
  // Of the options, pipeline_cache_path and memory_budget apply; the device is the application's
  // and so is validation (its instance's layers).
  static Context adopt(const AdoptedDevice& handles, const ContextOptions& options = {});

  // Every Vulkan device this machine offers, in enumeration order (no Context needed).
  static std::vector<DeviceInfo> list_devices();

  const DeviceInfo& device() const;
  bool adopted() const;
  // Throws a vkattn::Error in a child process forked after this Context was made: the device
  // belongs to the parent (every call of the Context's executors refuses the same way).
  void refuse_in_forked_child() const;

  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  ~Context();

  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit Context(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vkattn
