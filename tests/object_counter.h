// Counts the Vulkan objects and device memory that a program holds, by handing vkattn a
// vkGetInstanceProcAddr that wraps every create/allocate and destroy/free entry point it uses.
// vkattn loads all its functions through the vkGetInstanceProcAddr in AdoptedDevice, so the
// counts are exactly what vkattn itself has created and not yet destroyed.
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <string>

namespace test {

PFN_vkGetInstanceProcAddr counting_get_instance_proc_addr();

struct LiveObjects {
  std::map<std::string, int64_t> objects;  // kind ("Buffer", "Pipeline", ...) -> live count
  int64_t memory_bytes = 0;                // live vkAllocateMemory bytes
  int64_t total() const;
  bool operator==(const LiveObjects& other) const;  // kinds with a count of 0 are as good as absent
};
LiveObjects live_objects();
std::string to_string(const LiveObjects& live);

}  // namespace test
