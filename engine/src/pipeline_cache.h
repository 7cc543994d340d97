// The pipeline cache on disk: the driver's vkGetPipelineCacheData bytes behind a header that says
// which device and driver they were written for, with a checksum, so that a torn, corrupt or stale
// file is recognised and ignored instead of being handed to the driver.
#pragma once
#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

namespace vkattn {

// What a cache file must have been written for.
struct PipelineCacheKey {
  uint32_t vendor_id = 0, device_id = 0, driver_version = 0;
  std::array<uint8_t, VK_UUID_SIZE> uuid{};  // VkPhysicalDeviceProperties::pipelineCacheUUID
};

// The file: a fixed little-endian header (magic "VKATTNPC", format version, the key's fields,
// payload length, FNV-1a 64 of the payload), then the payload (the driver's cache data).
std::vector<uint8_t> pack_pipeline_cache(std::span<const uint8_t> data, const PipelineCacheKey& key);

// The payload if `file` is whole (exact length), its checksum matches and it was written for
// `key`; std::nullopt otherwise. Never throws (short of memory) nor reads out of bounds, whatever the bytes.
std::optional<std::vector<uint8_t>> unpack_pipeline_cache(std::span<const uint8_t> file, const PipelineCacheKey& key);

// Where the cache for this device lives: $XDG_CACHE_HOME/vkattn/ (else $HOME/.cache/vkattn/), one
// file per device named from its vendor and device ids and UUID. Empty if VKATTN_CACHE=off or
// neither variable is set (an XDG_CACHE_HOME that is not absolute counts as unset, as XDG says).
std::filesystem::path default_pipeline_cache_path(const PipelineCacheKey& key);

// The payload of the cache file at `path`; empty when the file is missing, unreadable, corrupt or
// written for another device or driver. Never throws: a cache must never make a run fail.
std::vector<uint8_t> load_pipeline_cache(const std::filesystem::path& path, const PipelineCacheKey& key) noexcept;

// Writes the cache file atomically (creating its directory), so that concurrent writers never tear
// it. False on any failure, which leaves no partial file behind. Never throws.
bool save_pipeline_cache(const std::filesystem::path& path, std::span<const uint8_t> data,
                         const PipelineCacheKey& key) noexcept;

}  // namespace vkattn
