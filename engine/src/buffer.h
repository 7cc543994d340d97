// A storage buffer with its own memory. Host buffers (graph inputs and outputs) stay mapped;
// device buffers live in device-local memory and are filled through a staging copy unless that
// memory is host-visible too (integrated GPUs, lavapipe).
#pragma once
#include <cstdint>
#include <string>
#include <vulkan/vulkan_raii.hpp>

#include "vkattn/context.h"

namespace vkattn {

enum class MemoryUse { Device, Host };

// "12 MiB", rounded up, for error messages and reports.
std::string mib(uint64_t bytes);

class Buffer {
 public:
  // `what` names the buffer in error messages ("intermediate tensor 'scores'").
  // Refused with a DeviceLimitError, before the driver is asked, past the Context's memory
  // budget or what the memory heap has free.
  Buffer(Context::Impl& context, uint64_t bytes, MemoryUse use, const std::string& what);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  vk::Buffer handle() const { return *buffer_; }
  uint64_t size() const { return size_; }
  bool mapped() const { return mapped_ != nullptr; }

  void write(const void* data, uint64_t bytes);  // staging copy if the memory is not mapped
  void read(void* data, uint64_t offset, uint64_t bytes) const;  // host buffers only

 private:
  Context::Impl& context_;
  uint64_t size_;
  vk::raii::Buffer buffer_{nullptr};
  vk::raii::DeviceMemory memory_{nullptr};
  void* mapped_ = nullptr;
  uint32_t heap_ = 0;      // the memory heap it lives in
  uint64_t reserved_ = 0;  // bytes it holds there, counted in the Context's heap_used
};

}  // namespace vkattn
