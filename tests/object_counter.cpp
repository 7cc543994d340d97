#include "object_counter.h"

#include <cstring>
#include <mutex>

namespace test {
namespace {

std::mutex mutex;
LiveObjects live;

void add(const char* kind, int64_t n) {
  std::lock_guard lock(mutex);
  live.objects[kind] += n;
}

// One create/destroy pair per kind of object; the wrapped call is the loader's own entry point.
#define VKATTN_COUNT_PAIR(Kind)                                                                                   \
  VKAPI_ATTR VkResult VKAPI_CALL create_##Kind(VkDevice d, const Vk##Kind##CreateInfo* info,                      \
                                               const VkAllocationCallbacks* a, Vk##Kind* out) {                   \
    const VkResult r = vkCreate##Kind(d, info, a, out);                                                           \
    if (r == VK_SUCCESS) add(#Kind, 1);                                                                           \
    return r;                                                                                                     \
  }                                                                                                               \
  VKAPI_ATTR void VKAPI_CALL destroy_##Kind(VkDevice d, Vk##Kind h, const VkAllocationCallbacks* a) {            \
    if (h) add(#Kind, -1);                                                                                        \
    vkDestroy##Kind(d, h, a);                                                                                     \
  }

VKATTN_COUNT_PAIR(Buffer)
VKATTN_COUNT_PAIR(Image)
VKATTN_COUNT_PAIR(ImageView)
VKATTN_COUNT_PAIR(Sampler)
VKATTN_COUNT_PAIR(ShaderModule)
VKATTN_COUNT_PAIR(PipelineLayout)
VKATTN_COUNT_PAIR(DescriptorSetLayout)
VKATTN_COUNT_PAIR(DescriptorPool)
VKATTN_COUNT_PAIR(CommandPool)
VKATTN_COUNT_PAIR(Fence)
VKATTN_COUNT_PAIR(Semaphore)
VKATTN_COUNT_PAIR(QueryPool)
VKATTN_COUNT_PAIR(PipelineCache)
#undef VKATTN_COUNT_PAIR

std::map<VkDeviceMemory, VkDeviceSize> allocations;

VKAPI_ATTR VkResult VKAPI_CALL allocate_memory(VkDevice d, const VkMemoryAllocateInfo* info, const VkAllocationCallbacks* a,
                                               VkDeviceMemory* out) {
  const VkResult r = vkAllocateMemory(d, info, a, out);
  if (r == VK_SUCCESS) {
    std::lock_guard lock(mutex);
    live.objects["DeviceMemory"] += 1;
    live.memory_bytes += info->allocationSize;
    allocations[*out] = info->allocationSize;
  }
  return r;
}
VKAPI_ATTR void VKAPI_CALL free_memory(VkDevice d, VkDeviceMemory m, const VkAllocationCallbacks* a) {
  if (m) {
    std::lock_guard lock(mutex);
    live.objects["DeviceMemory"] -= 1;
    live.memory_bytes -= allocations[m];
    allocations.erase(m);
  }
  vkFreeMemory(d, m, a);
}
VKAPI_ATTR VkResult VKAPI_CALL create_compute_pipelines(VkDevice d, VkPipelineCache c, uint32_t n,
                                                        const VkComputePipelineCreateInfo* info,
                                                        const VkAllocationCallbacks* a, VkPipeline* out) {
  const VkResult r = vkCreateComputePipelines(d, c, n, info, a, out);
  if (r == VK_SUCCESS) add("Pipeline", n);
  return r;
}
VKAPI_ATTR void VKAPI_CALL destroy_pipeline(VkDevice d, VkPipeline p, const VkAllocationCallbacks* a) {
  if (p) add("Pipeline", -1);
  vkDestroyPipeline(d, p, a);
}
VKAPI_ATTR VkResult VKAPI_CALL allocate_command_buffers(VkDevice d, const VkCommandBufferAllocateInfo* info,
                                                        VkCommandBuffer* out) {
  const VkResult r = vkAllocateCommandBuffers(d, info, out);
  if (r == VK_SUCCESS) add("CommandBuffer", info->commandBufferCount);
  return r;
}
VKAPI_ATTR void VKAPI_CALL free_command_buffers(VkDevice d, VkCommandPool p, uint32_t n, const VkCommandBuffer* b) {
  for (uint32_t i = 0; i < n; ++i) add("CommandBuffer", b[i] ? -1 : 0);
  vkFreeCommandBuffers(d, p, n, b);
}
VKAPI_ATTR VkResult VKAPI_CALL allocate_descriptor_sets(VkDevice d, const VkDescriptorSetAllocateInfo* info,
                                                        VkDescriptorSet* out) {
  const VkResult r = vkAllocateDescriptorSets(d, info, out);
  if (r == VK_SUCCESS) add("DescriptorSet", info->descriptorSetCount);
  return r;
}
VKAPI_ATTR VkResult VKAPI_CALL free_descriptor_sets(VkDevice d, VkDescriptorPool p, uint32_t n, const VkDescriptorSet* s) {
  for (uint32_t i = 0; i < n; ++i) add("DescriptorSet", s[i] ? -1 : 0);
  return vkFreeDescriptorSets(d, p, n, s);
}

PFN_vkVoidFunction wrapped(const char* name) {
  static const std::map<std::string, PFN_vkVoidFunction> table = {
#define VKATTN_ENTRY(Kind)                                                        \
  {"vkCreate" #Kind, reinterpret_cast<PFN_vkVoidFunction>(create_##Kind)},        \
      {"vkDestroy" #Kind, reinterpret_cast<PFN_vkVoidFunction>(destroy_##Kind)},
      VKATTN_ENTRY(Buffer) VKATTN_ENTRY(Image) VKATTN_ENTRY(ImageView) VKATTN_ENTRY(Sampler)
      VKATTN_ENTRY(ShaderModule) VKATTN_ENTRY(PipelineLayout) VKATTN_ENTRY(DescriptorSetLayout)
      VKATTN_ENTRY(DescriptorPool) VKATTN_ENTRY(CommandPool) VKATTN_ENTRY(Fence) VKATTN_ENTRY(Semaphore)
      VKATTN_ENTRY(QueryPool) VKATTN_ENTRY(PipelineCache)
#undef VKATTN_ENTRY
      {"vkAllocateMemory", reinterpret_cast<PFN_vkVoidFunction>(allocate_memory)},
      {"vkFreeMemory", reinterpret_cast<PFN_vkVoidFunction>(free_memory)},
      {"vkCreateComputePipelines", reinterpret_cast<PFN_vkVoidFunction>(create_compute_pipelines)},
      {"vkDestroyPipeline", reinterpret_cast<PFN_vkVoidFunction>(destroy_pipeline)},
      {"vkAllocateCommandBuffers", reinterpret_cast<PFN_vkVoidFunction>(allocate_command_buffers)},
      {"vkFreeCommandBuffers", reinterpret_cast<PFN_vkVoidFunction>(free_command_buffers)},
      {"vkAllocateDescriptorSets", reinterpret_cast<PFN_vkVoidFunction>(allocate_descriptor_sets)},
      {"vkFreeDescriptorSets", reinterpret_cast<PFN_vkVoidFunction>(free_descriptor_sets)},
  };
  const auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL get_device_proc_addr(VkDevice device, const char* name) {
  if (std::strcmp(name, "vkGetDeviceProcAddr") == 0) return reinterpret_cast<PFN_vkVoidFunction>(get_device_proc_addr);
  if (auto f = wrapped(name)) return f;
  return vkGetDeviceProcAddr(device, name);
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL get_instance_proc_addr(VkInstance instance, const char* name) {
  if (std::strcmp(name, "vkGetDeviceProcAddr") == 0) return reinterpret_cast<PFN_vkVoidFunction>(get_device_proc_addr);
  if (instance)
    if (auto f = wrapped(name)) return f;
  return vkGetInstanceProcAddr(instance, name);
}

}  // namespace

PFN_vkGetInstanceProcAddr counting_get_instance_proc_addr() { return get_instance_proc_addr; }

LiveObjects live_objects() {
  std::lock_guard lock(mutex);
  return live;
}

int64_t LiveObjects::total() const {
  int64_t n = 0;
  for (const auto& [kind, count] : objects) n += count;
  return n;
}

bool LiveObjects::operator==(const LiveObjects& other) const {
  auto nonzero = [](const LiveObjects& l) {
    std::map<std::string, int64_t> m;
    for (const auto& [kind, count] : l.objects)
      if (count) m[kind] = count;
    return m;
  };
  return memory_bytes == other.memory_bytes && nonzero(*this) == nonzero(other);
}

std::string to_string(const LiveObjects& l) {
  std::string s;
  for (const auto& [kind, count] : l.objects)
    if (count) s += kind + " " + std::to_string(count) + ", ";
  return s + std::to_string(l.memory_bytes) + " bytes of device memory";
}

}  // namespace test
