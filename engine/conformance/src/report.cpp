#include "vkattn/conformance.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace vkattn::conformance {

std::string to_json(const Report& report) {
  const DeviceInfo& d = report.device;
  nlohmann::ordered_json j;
  j["device"] = {{"name", d.name},
                 {"type", d.type},
                 {"vendor_id", d.vendor_id},
                 {"device_id", d.device_id},
                 {"driver_name", d.driver_name},
                 {"driver_info", d.driver_info},
                 {"driver_version", d.driver_version},
                 {"vulkan_api_version", version_string(d.api_version)},
                 {"subgroup_size", d.subgroup_size},
                 {"kernel_profile", d.profile},
                 {"shader_float16", d.shader_float16},
                 {"storage_buffer_16bit", d.storage_buffer_16bit}};
  j["limits"] = {{"maxStorageBufferRange", d.max_storage_buffer_range},
                 {"maxMemoryAllocationSize", d.max_memory_allocation_size},
                 {"maxBufferSize", d.max_buffer_size},
                 {"maxComputeSharedMemorySize", d.max_shared_memory},
                 {"maxComputeWorkGroupInvocations", d.max_workgroup_invocations},
                 {"maxComputeWorkGroupCount", d.max_workgroup_count},
                 {"maxComputeWorkGroupSize", d.max_workgroup_size},
                 {"minStorageBufferOffsetAlignment", d.min_storage_buffer_offset_alignment},
                 {"maxUniformBufferRange", d.max_uniform_buffer_range},
                 {"minUniformBufferOffsetAlignment", d.min_uniform_buffer_offset_alignment},
                 {"largestDeviceLocalHeap", d.device_local_bytes}};
  j["precisions"] = {to_string(report.precision)};
  j["quick"] = report.quick;
  j["seed"] = report.seed;
  j["summary"] = {{"passed", report.passed}, {"failed", report.failed}, {"skipped", report.skipped}};
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json("inf"); };
  for (const Result& r : report.results)
    j["cases"].push_back({{"case", r.name},
                          {"kernel", r.kernel},
                          {"precision", r.precision},
                          {"status", to_string(r.status)},
                          {"max_abs_error", number(r.max_abs)},
                          {"relative_error", number(r.relative)},
                          {"bound", r.bound},
                          {"reason", r.reason},
                          {"seconds", r.seconds}});
  return j.dump(2) + "\n";
}

std::string to_markdown(const Report& report) {
  const DeviceInfo& d = report.device;
  char line[512];
  std::string md = "# vkattn conformance: " + d.name + "\n\n";
  std::snprintf(line, sizeof line,
                "- device: %s (%s), vendor 0x%04x, device 0x%04x\n- driver: %s %s\n- Vulkan API: %s; subgroup size %u; "
                "kernel profile %s\n"
                "- maxStorageBufferRange %llu MiB, maxMemoryAllocationSize %llu MiB, maxComputeSharedMemorySize %u KiB, "
                "maxComputeWorkGroupCount %u x %u x %u\n- matrix: %s, precision %s, seed %llu\n\n",
                d.name.c_str(), d.type.c_str(), d.vendor_id, d.device_id, d.driver_name.c_str(), d.driver_info.c_str(),
                version_string(d.api_version).c_str(), d.subgroup_size, d.profile.c_str(),
                (unsigned long long)(d.max_storage_buffer_range >> 20),
                (unsigned long long)(d.max_memory_allocation_size >> 20), d.max_shared_memory >> 10,
                d.max_workgroup_count[0], d.max_workgroup_count[1], d.max_workgroup_count[2],
                report.quick ? "quick" : "full", to_string(report.precision),
                (unsigned long long)report.seed);
  md += line;
  md += "**" + std::to_string(report.passed) + " passed, " + std::to_string(report.failed) + " failed, " +
        std::to_string(report.skipped) + " skipped**\n\n";
  md += "| case | max abs error | relative error | bound | result |\n|---|---|---|---|---|\n";
  for (const Result& r : report.results) {
    if (r.status == Status::Skipped) {
      md += "| " + r.name + " | | | | skip: " + r.reason + " |\n";
      continue;
    }
    std::snprintf(line, sizeof line, "| %s | %.2e | %.2e | %.0e | %s%s%s |\n", r.name.c_str(), r.max_abs, r.relative,
                  r.bound, to_string(r.status), r.reason.empty() ? "" : ": ", r.reason.c_str());
    md += line;
  }
  return md;
}

}  // namespace vkattn::conformance
