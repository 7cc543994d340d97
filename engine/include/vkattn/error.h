// vkattn reports every failure a user can act on as one vkattn::Error whose message is a whole
// sentence (what went wrong, and where it helps, what to do about it).
#pragma once
#include <stdexcept>
#include <string>

namespace vkattn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& sentence) : std::runtime_error(sentence) {}
};

// The work is valid but this device cannot hold or dispatch it: a limit (storage-buffer range,
// allocation size, workgroup count or size) or device memory ran out. The conformance suite
// reports such cases as skipped rather than failed.
class DeviceLimitError : public Error {
 public:
  using Error::Error;
};

// The Vulkan device was lost (a driver reset, a GPU fault). The Context and every Executor made on
// it refuse further work; make a new Context (for an adopted device, after the application has
// made a new VkDevice). vkattn never destroys the application's device.
class DeviceLostError : public Error {
 public:
  using Error::Error;
};

}  // namespace vkattn
