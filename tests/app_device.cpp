#include "app_device.h"

#include <doctest/doctest.h>

namespace test {
namespace {

VkBool32 VKAPI_CALL collect(VkDebugUtilsMessageSeverityFlagBitsEXT, VkDebugUtilsMessageTypeFlagsEXT,
                            const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  static_cast<std::vector<std::string>*>(user)->push_back(data->pMessage);
  return VK_FALSE;
}

}  // namespace

AppDevice::AppDevice() {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO, nullptr, "app", 1, "app", 1, VK_API_VERSION_1_2};
  const char* layers[] = {"VK_LAYER_KHRONOS_validation"};
  const char* extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME};
  VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT, nullptr, 1, &sync, 0, nullptr};
  VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, &features, 0, &app, 1, layers, 2, extensions};
  REQUIRE(vkCreateInstance(&ici, nullptr, &instance) == VK_SUCCESS);
  VkDebugUtilsMessengerCreateInfoEXT mci{};
  mci.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
  mci.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  mci.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  mci.pfnUserCallback = collect;
  mci.pUserData = &messages;
  auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
      vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
  REQUIRE(create_messenger(instance, &mci, nullptr, &messenger) == VK_SUCCESS);
  uint32_t count = 1;
  vkEnumeratePhysicalDevices(instance, &count, &physical);
  REQUIRE(count >= 1);
  uint32_t families = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &families, nullptr);
  std::vector<VkQueueFamilyProperties> props(families);
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &families, props.data());
  while (!(props[family].queueFlags & VK_QUEUE_COMPUTE_BIT)) ++family;

  VkPhysicalDeviceProperties properties;
  vkGetPhysicalDeviceProperties(physical, &properties);
  VkPhysicalDeviceVulkan12Features have{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceFeatures2 query{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &have};
  if (properties.apiVersion >= VK_API_VERSION_1_2) vkGetPhysicalDeviceFeatures2(physical, &query);
  timeline = have.timelineSemaphore;
  VkPhysicalDeviceVulkan12Features enable{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  enable.timelineSemaphore = timeline;

  const float priority = 1.f;
  VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, nullptr, 0, family, 1, &priority};
  VkDeviceCreateInfo dci{};
  dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  dci.pNext = timeline ? &enable : nullptr;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  REQUIRE(vkCreateDevice(physical, &dci, nullptr, &device) == VK_SUCCESS);
  vkGetDeviceQueue(device, family, 0, &queue);
}

AppDevice::~AppDevice() {
  vkDestroyDevice(device, nullptr);
  reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"))(
      instance, messenger, nullptr);
  vkDestroyInstance(instance, nullptr);
}

AppBuffer::AppBuffer(const AppDevice& app, VkDeviceSize bytes) : device(app.device) {
  VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bci.size = bytes;
  bci.usage = kUsage;
  REQUIRE(vkCreateBuffer(device, &bci, nullptr, &buffer) == VK_SUCCESS);
  VkMemoryRequirements needs;
  vkGetBufferMemoryRequirements(device, buffer, &needs);
  VkPhysicalDeviceMemoryProperties props;
  vkGetPhysicalDeviceMemoryProperties(app.physical, &props);
  const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  uint32_t type = 0;
  while (!((needs.memoryTypeBits >> type) & 1) || (props.memoryTypes[type].propertyFlags & want) != want) ++type;
  VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, needs.size, type};
  REQUIRE(vkAllocateMemory(device, &mai, nullptr, &memory) == VK_SUCCESS);
  vkBindBufferMemory(device, buffer, memory, 0);
  vkMapMemory(device, memory, 0, VK_WHOLE_SIZE, 0, reinterpret_cast<void**>(&data));
}

AppBuffer::~AppBuffer() {
  vkDestroyBuffer(device, buffer, nullptr);
  vkFreeMemory(device, memory, nullptr);
}

VkDeviceMemory bind_new_memory(const AppDevice& app, VkImage image) {
  VkMemoryRequirements needs;
  vkGetImageMemoryRequirements(app.device, image, &needs);
  uint32_t type = 0;
  while (!((needs.memoryTypeBits >> type) & 1)) ++type;
  VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, needs.size, type};
  VkDeviceMemory memory = VK_NULL_HANDLE;
  REQUIRE(vkAllocateMemory(app.device, &mai, nullptr, &memory) == VK_SUCCESS);
  REQUIRE(vkBindImageMemory(app.device, image, memory, 0) == VK_SUCCESS);
  return memory;
}

AppCommands::AppCommands(const AppDevice& app) : device(app.device) {
  VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, nullptr, 0, app.family};
  REQUIRE(vkCreateCommandPool(device, &pci, nullptr, &pool) == VK_SUCCESS);
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, nullptr, pool,
                                 VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
  REQUIRE(vkAllocateCommandBuffers(device, &ai, &cmd) == VK_SUCCESS);
  VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  REQUIRE(vkCreateFence(device, &fci, nullptr, &fence) == VK_SUCCESS);
}

AppCommands::~AppCommands() {
  vkDestroyFence(device, fence, nullptr);
  vkDestroyCommandPool(device, pool, nullptr);
}

void AppCommands::submit_and_wait(VkQueue queue) {
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cmd;
  REQUIRE(vkQueueSubmit(queue, 1, &submit, fence) == VK_SUCCESS);
  REQUIRE(vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX) == VK_SUCCESS);
  vkResetFences(device, 1, &fence);
}

}  // namespace test
