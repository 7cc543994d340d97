// Any bytes as a pipeline-cache file: either refused, or a payload that packs back to the same file.
#include <vector>

#include "invariants.h"
#include "pipeline_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vkattn::PipelineCacheKey key;
  key.vendor_id = 0x10005;
  key.device_id = 0;
  key.driver_version = 1;
  for (size_t i = 0; i < key.uuid.size(); ++i) key.uuid[i] = static_cast<uint8_t>(i);
  const std::span<const uint8_t> file(data, size);
  if (const auto payload = vkattn::unpack_pipeline_cache(file, key)) {
    const std::vector<uint8_t> again = vkattn::pack_pipeline_cache(*payload, key);
    fuzz::expect(std::vector<uint8_t>(file.begin(), file.end()) == again,
                 "an accepted cache file does not pack back to itself");
  }
  return 0;
}
