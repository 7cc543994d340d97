#include "gpu_image.h"

#include <string>

#include "vkattn/error.h"

void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw vkattn::Error(std::string("Vulkan failed at ") + what + " (VkResult " + std::to_string(r) + ").");
}

uint32_t memory_type(VkPhysicalDevice gpu, uint32_t allowed, VkMemoryPropertyFlags want) {
  VkPhysicalDeviceMemoryProperties props;
  vkGetPhysicalDeviceMemoryProperties(gpu, &props);
  for (uint32_t i = 0; i < props.memoryTypeCount; ++i)
    if ((allowed >> i & 1) && (props.memoryTypes[i].propertyFlags & want) == want) return i;
  throw vkattn::Error("The device has no suitable memory type.");
}

GpuImage::GpuImage(VkDevice d, VkPhysicalDevice gpu, VkFormat format, uint32_t w, uint32_t h, uint32_t n,
                   VkImageUsageFlags usage, bool array_view)
    : device(d), width(w), height(h), layers(n) {
  VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
  info.imageType = VK_IMAGE_TYPE_2D;
  info.format = format;
  info.extent = {w, h, 1};
  info.mipLevels = 1;
  info.arrayLayers = n;
  info.samples = VK_SAMPLE_COUNT_1_BIT;
  info.tiling = VK_IMAGE_TILING_OPTIMAL;
  info.usage = usage;
  check(vkCreateImage(device, &info, nullptr, &image), "vkCreateImage");
  VkMemoryRequirements needs;
  vkGetImageMemoryRequirements(device, image, &needs);
  VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, needs.size,
                           memory_type(gpu, needs.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)};
  check(vkAllocateMemory(device, &mai, nullptr, &memory), "vkAllocateMemory");
  check(vkBindImageMemory(device, image, memory, 0), "vkBindImageMemory");
  VkImageViewCreateInfo view_info{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, nullptr, 0, image,
                                  array_view ? VK_IMAGE_VIEW_TYPE_2D_ARRAY : VK_IMAGE_VIEW_TYPE_2D, format, {},
                                  {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, n}};
  check(vkCreateImageView(device, &view_info, nullptr, &view), "vkCreateImageView");
}

GpuImage::~GpuImage() {
  vkDestroyImageView(device, view, nullptr);
  vkDestroyImage(device, image, nullptr);
  vkFreeMemory(device, memory, nullptr);
}

HostBuffer::HostBuffer(VkDevice d, VkPhysicalDevice gpu, VkDeviceSize bytes, VkBufferUsageFlags usage) : device(d) {
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, nullptr, 0, bytes, usage};
  check(vkCreateBuffer(device, &info, nullptr, &buffer), "vkCreateBuffer");
  VkMemoryRequirements needs;
  vkGetBufferMemoryRequirements(device, buffer, &needs);
  VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, needs.size,
                           memory_type(gpu, needs.memoryTypeBits,
                                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)};
  check(vkAllocateMemory(device, &mai, nullptr, &memory), "vkAllocateMemory");
  check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");
  check(vkMapMemory(device, memory, 0, VK_WHOLE_SIZE, 0, reinterpret_cast<void**>(&data)), "vkMapMemory");
}

HostBuffer::~HostBuffer() {
  vkDestroyBuffer(device, buffer, nullptr);
  vkFreeMemory(device, memory, nullptr);
}
