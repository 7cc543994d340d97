#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "context_impl.h"
#include "pipeline_cache.h"
#include "vkattn/error.h"

namespace vkattn {
namespace {

const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

std::string type_name(vk::PhysicalDeviceType type) {
  switch (type) {
    case vk::PhysicalDeviceType::eDiscreteGpu: return "discrete";
    case vk::PhysicalDeviceType::eIntegratedGpu: return "integrated";
    case vk::PhysicalDeviceType::eVirtualGpu: return "virtual";
    case vk::PhysicalDeviceType::eCpu: return "cpu";
    default: return "other";
  }
}

int preference(vk::PhysicalDeviceType type) {
  switch (type) {
    case vk::PhysicalDeviceType::eDiscreteGpu: return 0;
    case vk::PhysicalDeviceType::eIntegratedGpu: return 1;
    case vk::PhysicalDeviceType::eVirtualGpu: return 2;
    case vk::PhysicalDeviceType::eCpu: return 3;
    default: return 4;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<uint32_t> compute_family(const vk::raii::PhysicalDevice& physical) {
  auto families = physical.getQueueFamilyProperties();
  for (uint32_t i = 0; i < families.size(); ++i)
    if (families[i].queueFlags & vk::QueueFlagBits::eCompute) return i;
  return std::nullopt;
}

// The kernel profile: VKATTN_PROFILE when set, else by the kind of device.
std::string profile_for(const std::string& type) {
  if (const char* forced = std::getenv("VKATTN_PROFILE")) {
    const std::string p = forced;
    if (p != "cpu" && p != "gpu") throw Error("VKATTN_PROFILE must be 'cpu' or 'gpu', not '" + p + "'.");
    return p;
  }
  return type == "cpu" ? "cpu" : "gpu";
}

// storageBuffer16BitAccess (core in 1.1, VK_KHR_16bit_storage), which Precision::fp16 needs.
bool has_16bit_storage(const vk::raii::PhysicalDevice& physical) {
  return physical.getProperties().apiVersion >= VK_API_VERSION_1_1 &&
         physical.getFeatures2<vk::PhysicalDeviceFeatures2, vk::PhysicalDevice16BitStorageFeatures>()
             .get<vk::PhysicalDevice16BitStorageFeatures>()
             .storageBuffer16BitAccess;
}

DeviceInfo describe(const vk::raii::PhysicalDevice& physical, uint32_t index, uint32_t family) {
  DeviceInfo info;
  const auto props = physical.getProperties();
  info.index = index;
  info.name = props.deviceName.data();
  info.type = type_name(props.deviceType);
  info.profile = profile_for(info.type);
  info.vendor_id = props.vendorID;
  info.device_id = props.deviceID;
  info.api_version = props.apiVersion;
  info.driver_version = props.driverVersion;
  const auto& l = props.limits;
  info.max_storage_buffer_range = l.maxStorageBufferRange;
  info.max_shared_memory = l.maxComputeSharedMemorySize;
  info.max_workgroup_invocations = l.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) {
    info.max_workgroup_count[i] = l.maxComputeWorkGroupCount[i];
    info.max_workgroup_size[i] = l.maxComputeWorkGroupSize[i];
  }
  info.min_storage_buffer_offset_alignment = static_cast<uint32_t>(l.minStorageBufferOffsetAlignment);
  info.max_uniform_buffer_range = l.maxUniformBufferRange;
  info.min_uniform_buffer_offset_alignment = static_cast<uint32_t>(l.minUniformBufferOffsetAlignment);
  info.max_texel_buffer_elements = l.maxTexelBufferElements;
  info.min_texel_buffer_offset_alignment = static_cast<uint32_t>(l.minTexelBufferOffsetAlignment);
  info.timestamp_period_ns = l.timestampPeriod;
  const auto families = physical.getQueueFamilyProperties();
  info.timestamps = family < families.size() && families[family].timestampValidBits > 0;

  const bool v12 = props.apiVersion >= VK_API_VERSION_1_2, v13 = props.apiVersion >= VK_API_VERSION_1_3;
  auto chain = physical.getProperties2<vk::PhysicalDeviceProperties2, vk::PhysicalDeviceSubgroupProperties,
                                       vk::PhysicalDeviceMaintenance3Properties>();
  info.subgroup_size = chain.get<vk::PhysicalDeviceSubgroupProperties>().subgroupSize;
  info.max_memory_allocation_size = chain.get<vk::PhysicalDeviceMaintenance3Properties>().maxMemoryAllocationSize;
  info.max_buffer_size = info.max_memory_allocation_size;
  if (v12) {
    auto driver = physical.getProperties2<vk::PhysicalDeviceProperties2, vk::PhysicalDeviceDriverProperties>()
                      .get<vk::PhysicalDeviceDriverProperties>();
    info.driver_name = driver.driverName.data();
    info.driver_info = driver.driverInfo.data();
    auto f = physical.getFeatures2<vk::PhysicalDeviceFeatures2, vk::PhysicalDeviceVulkan11Features,
                                   vk::PhysicalDeviceVulkan12Features>();
    info.shader_float16 = f.get<vk::PhysicalDeviceVulkan12Features>().shaderFloat16;
  }
  info.storage_buffer_16bit = has_16bit_storage(physical);
  if (v13)
    info.max_buffer_size = physical.getProperties2<vk::PhysicalDeviceProperties2, vk::PhysicalDeviceMaintenance4Properties>()
                               .get<vk::PhysicalDeviceMaintenance4Properties>()
                               .maxBufferSize;
  const auto memory = physical.getMemoryProperties();
  for (uint32_t i = 0; i < memory.memoryHeapCount; ++i)
    if (memory.memoryHeaps[i].flags & vk::MemoryHeapFlagBits::eDeviceLocal)
      info.device_local_bytes = std::max<uint64_t>(info.device_local_bytes, memory.memoryHeaps[i].size);
  return info;
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT,
                                                VkDebugUtilsMessageTypeFlagsEXT,
                                                const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* impl = static_cast<Context::Impl*>(user);
  const std::string message = data->pMessage ? data->pMessage : "(empty validation message)";
  if (impl->on_validation_message)
    impl->on_validation_message(message);
  else
    std::cerr << "vkattn: validation: " << message << "\n";
  return VK_FALSE;
}

vk::raii::Instance make_instance(vk::raii::Context& loader, bool validation, void* validation_chain) {
  const uint32_t loader_version = loader.enumerateInstanceVersion();
  vk::ApplicationInfo app("vkattn", 1, "vkattn", 1, std::min<uint32_t>(loader_version, VK_API_VERSION_1_3));
  std::vector<const char*> layers, extensions;
  if (validation) {
    const auto available = loader.enumerateInstanceLayerProperties();
    const bool found = std::any_of(available.begin(), available.end(),
                                   [](const auto& l) { return std::string(l.layerName.data()) == kValidationLayer; });
    if (!found)
      throw Error("Validation was requested but VK_LAYER_KHRONOS_validation is not installed "
                  "(on Debian: apt-get install vulkan-validationlayers).");
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
  }
  vk::InstanceCreateInfo info({}, &app, layers, extensions);
  info.pNext = validation_chain;
  return vk::raii::Instance(loader, info);
}

}  // namespace

std::string version_string(uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

// Saves the pipeline cache for the next run if this one built pipelines and the driver's data
// changed since it was loaded. Never throws: a cache must never make a run (or a destructor) fail.
static void save_pipeline_cache_if_changed(Context::Impl& impl) noexcept {
  if (impl.pipeline_cache_file.empty() || !impl.pipeline_built || impl.device_lost || !*impl.pipeline_cache) return;
  try {
    const std::vector<uint8_t> data = impl.pipeline_cache.getData();
    if (data != impl.pipeline_cache_loaded) save_pipeline_cache(impl.pipeline_cache_file, data, impl.pipeline_cache_key);
  } catch (...) {
  }
}

Context::Impl::~Impl() {
  save_pipeline_cache_if_changed(*this);
  // Our objects go first, while the device's dispatch table still exists.
  kernels.clear();
  pipeline_cache.clear();
  command_pool.clear();
  if (adopted) {
    queue.release();
    device.release();
    instance.release();
  }
}

const Kernel& Context::Impl::kernel(const std::string& name, std::span<const uint32_t> spirv, uint32_t push_bytes,
                                    std::span<const uint32_t> specialization) {
  std::scoped_lock lock(mutex);
  std::string key = name;  // one pipeline per kernel and set of specialization constants
  for (uint32_t v : specialization) {
    key += ':';
    key += std::to_string(v);
  }
  auto it = kernels.find(key);
  if (it == kernels.end()) {
    it = kernels.emplace(key, std::make_unique<Kernel>(device, info, pipeline_cache, name, spirv, push_bytes,
                                                       specialization)).first;
    pipeline_built = true;
  }
  return *it->second;
}

void Context::Impl::refuse_if_forked() const {
  if (forked())
    throw Error("This vkattn model or Context was made in process " + std::to_string(owner) +
                ", and a forked child cannot use its parent's Vulkan device: make a new one in the child, or "
                "start worker processes with multiprocessing's 'spawn' method.");
}

void Context::Impl::refuse_if_unusable() const {
  refuse_if_forked();
  if (device_lost)
    throw DeviceLostError("The Vulkan device was lost earlier (a driver reset or a GPU fault); this vkattn::Context "
                          "and its executors can no longer be used: make a new Context.");
}

void Context::Impl::run_once(const std::function<void(vk::CommandBuffer)>& record) {
  std::scoped_lock lock(mutex);
  guarded("running a one-time command buffer", [&] {
    auto buffers = device.allocateCommandBuffers({*command_pool, vk::CommandBufferLevel::ePrimary, 1});
    auto& cmd = buffers.front();
    cmd.begin({vk::CommandBufferUsageFlagBits::eOneTimeSubmit});
    record(*cmd);
    cmd.end();
    vk::raii::Fence fence(device, vk::FenceCreateInfo{});
    vk::CommandBuffer handle = *cmd;
    queue.submit(vk::SubmitInfo({}, {}, handle), *fence);
    if (device.waitForFences(*fence, VK_TRUE, UINT64_MAX) != vk::Result::eSuccess)
      throw Error("Waiting for the GPU failed.");
  });
}

Context::Context(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() {
  // In a forked child the device is the parent's: destroying it here could hang in the driver.
  if (impl_ && impl_->forked()) (void)impl_.release();
}
const DeviceInfo& Context::device() const { return impl_->info; }
bool Context::adopted() const { return impl_->adopted; }
void Context::refuse_in_forked_child() const { impl_->refuse_if_forked(); }

// The pipeline cache, seeded from its file when one was saved for this device and driver; a file
// that is missing, corrupt, stale or refused by the driver leaves it empty.
static void open_pipeline_cache(Context::Impl& impl, const std::optional<std::string>& path) {
  const auto props = impl.physical.getProperties();
  impl.pipeline_cache_key = {props.vendorID, props.deviceID, props.driverVersion, props.pipelineCacheUUID};
  impl.pipeline_cache_file = path ? std::filesystem::path(*path) : default_pipeline_cache_path(impl.pipeline_cache_key);
  if (!impl.pipeline_cache_file.empty())
    impl.pipeline_cache_loaded = load_pipeline_cache(impl.pipeline_cache_file, impl.pipeline_cache_key);
  if (!impl.pipeline_cache_loaded.empty()) {
    try {
      impl.pipeline_cache = vk::raii::PipelineCache(
          impl.device, {{}, impl.pipeline_cache_loaded.size(), impl.pipeline_cache_loaded.data()});
      return;
    } catch (const vk::SystemError&) {
      impl.pipeline_cache_loaded.clear();
    }
  }
  impl.pipeline_cache = vk::raii::PipelineCache(impl.device, vk::PipelineCacheCreateInfo{});
}

static void finish_setup(Context::Impl& impl, const ContextOptions& options) {
  impl.memory = impl.physical.getMemoryProperties();
  impl.heap_used.assign(impl.memory.memoryHeapCount, 0);
  impl.memory_budget = options.memory_budget;
  // A physical-device query: the extension need only be supported, not enabled on the device.
  for (const auto& e : impl.physical.enumerateDeviceExtensionProperties())
    if (std::string(e.extensionName.data()) == VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) impl.has_memory_budget_extension = true;
  impl.info = describe(impl.physical, impl.info.index, impl.queue_family);
  impl.command_pool = vk::raii::CommandPool(
      impl.device, {vk::CommandPoolCreateFlagBits::eResetCommandBuffer, impl.queue_family});
  open_pipeline_cache(impl, options.pipeline_cache_path);
}

std::vector<DeviceInfo> Context::list_devices() {
  return vulkan_call("listing Vulkan devices", [] {
    vk::raii::Context loader(vkGetInstanceProcAddr);
    std::vector<DeviceInfo> out;
    vk::raii::Instance instance(nullptr);
    try {
      instance = make_instance(loader, false, nullptr);
    } catch (const vk::IncompatibleDriverError&) {
      return out;  // no driver at all
    }
    auto devices = instance.enumeratePhysicalDevices();
    for (uint32_t i = 0; i < devices.size(); ++i)
      out.push_back(describe(devices[i], i, compute_family(devices[i]).value_or(0)));
    return out;
  });
}

Context Context::create(const ContextOptions& options) {
  auto impl = std::make_unique<Impl>(vkGetInstanceProcAddr);
  impl->on_validation_message = options.on_validation_message;
  vulkan_call("creating the Vulkan context", [&] {
    const vk::ValidationFeatureEnableEXT enables[] = {vk::ValidationFeatureEnableEXT::eSynchronizationValidation};
    vk::ValidationFeaturesEXT features(enables, {});
    try {
      impl->instance = make_instance(impl->loader, options.validation, options.validation ? &features : nullptr);
    } catch (const vk::IncompatibleDriverError&) {
      throw Error("No Vulkan driver was found; install one (on Debian: apt-get install mesa-vulkan-drivers "
                  "for the CPU driver lavapipe).");
    }
    if (options.validation) {
      using S = vk::DebugUtilsMessageSeverityFlagBitsEXT;
      using T = vk::DebugUtilsMessageTypeFlagBitsEXT;
      impl->messenger = impl->instance.createDebugUtilsMessengerEXT(
          {{}, S::eWarning | S::eError, T::eGeneral | T::eValidation | T::ePerformance, &on_debug_message, impl.get()});
    }
    auto devices = impl->instance.enumeratePhysicalDevices();
    if (devices.empty())
      throw Error("No Vulkan device was found; install a driver (on Debian: apt-get install mesa-vulkan-drivers "
                  "for the CPU driver lavapipe).");

    std::vector<uint32_t> order(devices.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return preference(devices[a].getProperties().deviceType) < preference(devices[b].getProperties().deviceType);
    });
    std::string wanted = options.device;
    if (wanted.empty())
      if (const char* env = std::getenv("VKATTN_DEVICE")) wanted = env;
    if (!wanted.empty()) {
      std::vector<uint32_t> matches;
      const bool is_index = std::all_of(wanted.begin(), wanted.end(), [](unsigned char c) { return std::isdigit(c); });
      for (uint32_t i = 0; i < devices.size(); ++i) {
        const std::string name = devices[i].getProperties().deviceName.data();
        if (is_index ? std::to_string(i) == wanted : lower(name).find(lower(wanted)) != std::string::npos)
          matches.push_back(i);
      }
      if (matches.empty()) {
        std::string names;
        for (uint32_t i = 0; i < devices.size(); ++i)
          names += (i ? ", " : "") + std::to_string(i) + ": " + devices[i].getProperties().deviceName.data();
        throw Error("Device '" + wanted + "' matches none of the Vulkan devices (" + names + ").");
      }
      order = matches;
    }
    for (uint32_t index : order) {
      auto family = compute_family(devices[index]);
      if (!family) continue;
      impl->physical = std::move(devices[index]);
      impl->info.index = index;
      impl->queue_family = *family;
      break;
    }
    if (!*impl->physical) throw Error("No Vulkan device with a compute queue was found.");

    const float priority = 1.0f;
    vk::DeviceQueueCreateInfo queue_info({}, impl->queue_family, 1, &priority);
    // 16-bit storage where the device has it, for Precision::fp16 (nothing else needs a feature).
    vk::PhysicalDevice16BitStorageFeatures storage16;
    vk::DeviceCreateInfo device_info({}, queue_info);
    if (has_16bit_storage(impl->physical)) {
      storage16.storageBuffer16BitAccess = VK_TRUE;
      device_info.pNext = &storage16;
    }
    impl->device = vk::raii::Device(impl->physical, device_info);
    impl->queue = vk::raii::Queue(impl->device, impl->queue_family, 0);
    finish_setup(*impl, options);
  });
  return Context(std::move(impl));
}

Context Context::adopt(const AdoptedDevice& h, const ContextOptions& options) {
  if (!h.instance || !h.physical_device || !h.device || !h.queue || !h.get_instance_proc_addr)
    throw Error("Context::adopt needs a VkInstance, VkPhysicalDevice, VkDevice, VkQueue and vkGetInstanceProcAddr.");
  auto impl = std::make_unique<Impl>(h.get_instance_proc_addr);
  impl->adopted = true;
  vulkan_call("adopting the application's Vulkan device", [&] {
    impl->instance = vk::raii::Instance(impl->loader, h.instance);
    impl->physical = vk::raii::PhysicalDevice(impl->instance, h.physical_device);
    const auto families = impl->physical.getQueueFamilyProperties();
    if (h.queue_family >= families.size() || !(families[h.queue_family].queueFlags & vk::QueueFlagBits::eCompute))
      throw Error("The adopted queue family " + std::to_string(h.queue_family) + " does not support compute.");
    if (impl->physical.getProperties().apiVersion < VK_API_VERSION_1_1)
      throw Error("vkattn needs a Vulkan 1.1 device; the adopted device offers only 1.0.");
    impl->device = vk::raii::Device(impl->physical, h.device);
    impl->queue = vk::raii::Queue(impl->device, h.queue);
    impl->queue_family = h.queue_family;
    auto devices = impl->instance.enumeratePhysicalDevices();
    for (uint32_t i = 0; i < devices.size(); ++i)
      if (*devices[i] == vk::PhysicalDevice(h.physical_device)) impl->info.index = i;
    finish_setup(*impl, options);
    impl->info.storage_buffer_16bit = impl->info.storage_buffer_16bit && h.storage_buffer_16bit;
  });
  return Context(std::move(impl));
}

}  // namespace vkattn
