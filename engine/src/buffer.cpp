#include "buffer.h"

#include <cstring>
#include <optional>

#include "context_impl.h"
#include "vkattn/error.h"

namespace vkattn {
namespace {

std::optional<uint32_t> find_memory(const vk::PhysicalDeviceMemoryProperties& memory, uint32_t allowed,
                                    vk::MemoryPropertyFlags required, vk::MemoryPropertyFlags preferred) {
  std::optional<uint32_t> fallback;
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
    const auto flags = memory.memoryTypes[i].propertyFlags;
    if (!(allowed & (1u << i)) || (flags & required) != required) continue;
    if ((flags & preferred) == preferred) return i;
    if (!fallback) fallback = i;
  }
  return fallback;
}

}  // namespace

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

Buffer::Buffer(Context::Impl& ctx, uint64_t bytes, MemoryUse use, const std::string& what)
    : context_(ctx), size_(std::max<uint64_t>(bytes, 4)) {
  const auto& info = ctx.info;
  if (size_ > info.max_memory_allocation_size || size_ > info.max_buffer_size)
    throw DeviceLimitError("The " + what + " needs " + mib(size_) + ", more than this device allows in one buffer (" +
                mib(std::min(info.max_memory_allocation_size, info.max_buffer_size)) + ").");
  using M = vk::MemoryPropertyFlagBits;
  vulkan_call("allocating " + mib(size_) + " for the " + what, [&] {
    buffer_ = vk::raii::Buffer(ctx.device, vk::BufferCreateInfo({}, size_,
                                                                vk::BufferUsageFlagBits::eStorageBuffer |
                                                                    vk::BufferUsageFlagBits::eUniformBuffer |
                                                                    vk::BufferUsageFlagBits::eTransferDst |
                                                                    vk::BufferUsageFlagBits::eTransferSrc));
    const auto needs = buffer_.getMemoryRequirements();
    const auto type = use == MemoryUse::Host
                          ? find_memory(ctx.memory, needs.memoryTypeBits, M::eHostVisible | M::eHostCoherent, M::eHostCached)
                          : find_memory(ctx.memory, needs.memoryTypeBits, {}, M::eDeviceLocal);
    if (!type) throw Error("This device offers no suitable memory type for the " + what + ".");
    memory_ = vk::raii::DeviceMemory(ctx.device, vk::MemoryAllocateInfo(needs.size, *type));
    buffer_.bindMemory(*memory_, 0);
    const auto flags = ctx.memory.memoryTypes[*type].propertyFlags;
    if ((flags & M::eHostVisible) && (flags & M::eHostCoherent)) mapped_ = memory_.mapMemory(0, VK_WHOLE_SIZE);
  });
}

void Buffer::write(const void* data, uint64_t bytes) {
  if (bytes > size_) throw Error("Internal error: a write is larger than its buffer.");
  if (mapped_) {
    std::memcpy(mapped_, data, bytes);
    return;
  }
  Buffer staging(context_, bytes, MemoryUse::Host, "staging copy");
  std::memcpy(staging.mapped_, data, bytes);
  context_.run_once([&](vk::CommandBuffer cmd) {
    cmd.copyBuffer(staging.handle(), handle(), vk::BufferCopy(0, 0, bytes));
    // Later submissions on this queue read the copy from compute shaders.
    const vk::MemoryBarrier barrier(vk::AccessFlagBits::eTransferWrite, vk::AccessFlagBits::eShaderRead);
    cmd.pipelineBarrier(vk::PipelineStageFlagBits::eTransfer, vk::PipelineStageFlagBits::eComputeShader, {}, barrier,
                        {}, {});
  });
}

void Buffer::read(void* data, uint64_t offset, uint64_t bytes) const {
  if (!mapped_ || offset > size_ || bytes > size_ - offset)
    throw Error("Internal error: read from a buffer the host cannot see.");
  std::memcpy(data, static_cast<const char*>(mapped_) + offset, bytes);
}

}  // namespace vkattn
