#include "pipeline_cache.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "file_io.h"
#include "vkattn/output_file.h"

namespace vkattn {
namespace {

// Header layout: byte offsets of each field. Every field is read and written a byte at a time,
// little-endian, so the layout is the same on every host and no pointer is ever misaligned.
constexpr char kMagic[8] = {'V', 'K', 'A', 'T', 'T', 'N', 'P', 'C'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kVersionAt = 8, kVendorAt = 12, kDeviceAt = 16, kDriverAt = 20, kUuidAt = 24,
                 kLengthAt = kUuidAt + VK_UUID_SIZE, kChecksumAt = kLengthAt + 8, kHeaderBytes = kChecksumAt + 8;

void put(std::vector<uint8_t>& out, size_t at, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out[at + i] = static_cast<uint8_t>(value >> (8 * i));
}

uint64_t get(std::span<const uint8_t> in, size_t at, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value |= uint64_t{in[at + i]} << (8 * i);
  return value;
}

// FNV-1a 64: every step is a bijection of the state, so any change to one byte changes the sum.
uint64_t fnv1a(std::span<const uint8_t> data) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : data) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::vector<uint8_t> pack_pipeline_cache(std::span<const uint8_t> data, const PipelineCacheKey& key) {
  std::vector<uint8_t> out(kHeaderBytes + data.size());
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  put(out, kVersionAt, kFormatVersion, 4);
  put(out, kVendorAt, key.vendor_id, 4);
  put(out, kDeviceAt, key.device_id, 4);
  put(out, kDriverAt, key.driver_version, 4);
  std::copy(key.uuid.begin(), key.uuid.end(), out.begin() + kUuidAt);
  put(out, kLengthAt, data.size(), 8);
  put(out, kChecksumAt, fnv1a(data), 8);
  std::copy(data.begin(), data.end(), out.begin() + kHeaderBytes);
  return out;
}

std::optional<std::vector<uint8_t>> unpack_pipeline_cache(std::span<const uint8_t> file, const PipelineCacheKey& key) {
  if (file.size() < kHeaderBytes || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  if (get(file, kVersionAt, 4) != kFormatVersion || get(file, kVendorAt, 4) != key.vendor_id ||
      get(file, kDeviceAt, 4) != key.device_id || get(file, kDriverAt, 4) != key.driver_version ||
      !std::equal(key.uuid.begin(), key.uuid.end(), file.begin() + kUuidAt))
    return std::nullopt;
  const auto payload = file.subspan(kHeaderBytes);
  if (get(file, kLengthAt, 8) != payload.size() || get(file, kChecksumAt, 8) != fnv1a(payload)) return std::nullopt;
  return std::vector<uint8_t>(payload.begin(), payload.end());
}

std::filesystem::path default_pipeline_cache_path(const PipelineCacheKey& key) {
  const char* setting = std::getenv("VKATTN_CACHE");
  if (setting && std::string(setting) == "off") return {};
  std::filesystem::path base;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (xdg && xdg[0] == '/')
    base = xdg;
  else if (home && home[0])
    base = std::filesystem::path(home) / ".cache";
  else
    return {};
  char ids[32];
  std::snprintf(ids, sizeof ids, "%04x-%04x-", key.vendor_id, key.device_id);
  std::string name = std::string("pipelines-") + ids;
  for (uint8_t b : key.uuid) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", b);
    name += hex;
  }
  return base / "vkattn" / (name + ".bin");
}

std::vector<uint8_t> load_pipeline_cache(const std::filesystem::path& path, const PipelineCacheKey& key) noexcept {
  try {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return {};
    const std::string bytes = read_file_bytes(path.string());
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());  // uint8_t may alias anything
    return unpack_pipeline_cache({data, bytes.size()}, key).value_or(std::vector<uint8_t>{});
  } catch (...) {
    return {};
  }
}

bool save_pipeline_cache(const std::filesystem::path& path, std::span<const uint8_t> data,
                         const PipelineCacheKey& key) noexcept {
  try {
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    const std::vector<uint8_t> file = pack_pipeline_cache(data, key);
    OutputFile out(path.string());
    out.write(file.data(), file.size());
    out.commit();
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace vkattn
