// Turns the Vulkan errors a user can meet (out of memory, a lost device) into one vkattn::Error.
#pragma once
#include <string>
#include <vulkan/vulkan_raii.hpp>

#include "vkattn/error.h"

namespace vkattn {

// Runs a Vulkan call and turns the device errors a user can meet into one vkattn::Error.
template <typename F>
auto vulkan_call(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const vk::OutOfDeviceMemoryError&) {
    throw DeviceLimitError("The GPU ran out of device memory while " + what + "; try a smaller batch or image.");
  } catch (const vk::OutOfHostMemoryError&) {
    throw Error("The host ran out of memory while " + what + ".");
  } catch (const vk::DeviceLostError&) {
    throw DeviceLostError("The Vulkan device was lost while " + what +
                          " (a driver reset or a GPU fault); make a new vkattn::Context to go on.");
  } catch (const vk::SystemError& e) {
    throw Error("Vulkan failed while " + what + ": " + e.what());
  }
}

}  // namespace vkattn
