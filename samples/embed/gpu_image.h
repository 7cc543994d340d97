// The renderer's images and host buffers: each with its own memory, destroyed with it.
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>

// Throws vkattn::Error naming `what` when r is not VK_SUCCESS.
void check(VkResult r, const char* what);
uint32_t memory_type(VkPhysicalDevice gpu, uint32_t allowed, VkMemoryPropertyFlags want);

// A 2-D image (with array layers) in device memory and a view of all of it (2-D, or 2-D array
// when it has several layers).
struct GpuImage {
  VkDevice device = VK_NULL_HANDLE;
  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkImageView view = VK_NULL_HANDLE;
  uint32_t width = 0, height = 0, layers = 1;
  GpuImage(VkDevice device, VkPhysicalDevice gpu, VkFormat format, uint32_t width, uint32_t height, uint32_t layers,
           VkImageUsageFlags usage, bool array_view);
  ~GpuImage();
  GpuImage(const GpuImage&) = delete;
  GpuImage& operator=(const GpuImage&) = delete;
};

// A host-visible, coherent buffer, mapped: where frames are copied for the PNGs.
struct HostBuffer {
  VkDevice device = VK_NULL_HANDLE;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  unsigned char* data = nullptr;
  HostBuffer(VkDevice device, VkPhysicalDevice gpu, VkDeviceSize bytes, VkBufferUsageFlags usage);
  ~HostBuffer();
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
};
