// What an application does before it hands its device to vkattn: an instance with validation
// (synchronization validation on), a physical device, a device with one compute queue (with
// the timelineSemaphore feature where the device has it), and a few of its own objects.
#pragma once
#include <vulkan/vulkan.h>

#include <string>
#include <vector>

namespace test {

struct AppDevice {
  VkInstance instance = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t family = 0;
  bool timeline = false;  // the timelineSemaphore feature is enabled
  std::vector<std::string> messages;

  AppDevice();
  ~AppDevice();
  AppDevice(const AppDevice&) = delete;
  AppDevice& operator=(const AppDevice&) = delete;
};

// A host-visible, coherent storage buffer of the application's, mapped.
// Host-visible, with every usage an application may give vkattn (kUsage).
struct AppBuffer {
  static constexpr VkBufferUsageFlags kUsage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                               VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT;
  VkDevice device;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  float* data = nullptr;
  AppBuffer(const AppDevice& app, VkDeviceSize bytes);
  ~AppBuffer();
  AppBuffer(const AppBuffer&) = delete;
  AppBuffer& operator=(const AppBuffer&) = delete;
};

// Device memory of the first type the image allows, bound to it; the caller frees it.
VkDeviceMemory bind_new_memory(const AppDevice& app, VkImage image);

// One command buffer of the application's, with its pool and a fence to wait for it.
struct AppCommands {
  VkDevice device;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  explicit AppCommands(const AppDevice& app);
  ~AppCommands();
  AppCommands(const AppCommands&) = delete;
  AppCommands& operator=(const AppCommands&) = delete;
  // Submits the recorded command buffer on the application's queue and waits for it.
  void submit_and_wait(VkQueue queue);
};

}  // namespace test
