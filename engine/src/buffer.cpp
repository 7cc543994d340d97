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

// Refuses an allocation the device cannot hold before the driver is asked (a driver may
// overcommit and fail later, mid-run): past the Context's memory budget, or past what the memory
// heap has free by VK_EXT_memory_budget where the device has it. Without the extension the
// driver's own answer stands (lavapipe's heap size is nominal; it allocates past it).
void check_room(const Context::Impl& ctx, uint32_t heap, uint64_t bytes, const std::string& what) {
  uint64_t held = 0;
  for (uint64_t h : ctx.heap_used) held += h;
  if (ctx.memory_budget && held + bytes > ctx.memory_budget)
    throw DeviceLimitError("Allocating " + mib(bytes) + " for the " + what + " would pass the memory budget of " +
                           mib(ctx.memory_budget) + " given to this vkattn::Context (" + mib(held) +
                           " already in use); try a smaller batch or image.");
  if (!ctx.has_memory_budget_extension) return;
  const auto chain = ctx.physical.getMemoryProperties2<vk::PhysicalDeviceMemoryProperties2,
                                                       vk::PhysicalDeviceMemoryBudgetPropertiesEXT>();
  const auto& budget = chain.get<vk::PhysicalDeviceMemoryBudgetPropertiesEXT>();
  const uint64_t free = budget.heapBudget[heap] > budget.heapUsage[heap] ? budget.heapBudget[heap] - budget.heapUsage[heap] : 0;
  if (bytes > free)
    throw DeviceLimitError("Allocating " + mib(bytes) + " for the " + what + " needs more device memory than is free (" +
                           mib(free) + " of " + mib(budget.heapBudget[heap]) + " in memory heap " +
                           std::to_string(heap) + "); try a smaller batch or image.");
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
                                                                    vk::BufferUsageFlagBits::eUniformTexelBuffer |
                                                                    vk::BufferUsageFlagBits::eTransferDst |
                                                                    vk::BufferUsageFlagBits::eTransferSrc));
    const auto needs = buffer_.getMemoryRequirements();
    const auto type = use == MemoryUse::Host
                          ? find_memory(ctx.memory, needs.memoryTypeBits, M::eHostVisible | M::eHostCoherent, M::eHostCached)
                          : find_memory(ctx.memory, needs.memoryTypeBits, {}, M::eDeviceLocal);
    if (!type) throw Error("This device offers no suitable memory type for the " + what + ".");
    heap_ = ctx.memory.memoryTypes[*type].heapIndex;
    check_room(ctx, heap_, needs.size, what);
    memory_ = vk::raii::DeviceMemory(ctx.device, vk::MemoryAllocateInfo(needs.size, *type));
    buffer_.bindMemory(*memory_, 0);
    const auto flags = ctx.memory.memoryTypes[*type].propertyFlags;
    if ((flags & M::eHostVisible) && (flags & M::eHostCoherent)) mapped_ = memory_.mapMemory(0, VK_WHOLE_SIZE);
    reserved_ = needs.size;  // counted once nothing can throw (the destructor gives it back)
    ctx.heap_used[heap_] += reserved_;
  });
}

Buffer::~Buffer() { context_.heap_used[heap_] -= reserved_; }

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
