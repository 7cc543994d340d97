// Every kernel is compiled twice (cmake/EmbedShaders.cmake): as written, storing tensors as float,
// and with VKATTN_FP16, storing them as float16_t (shaders/common.glsl). The plan runs the second
// build of a step's kernel when a tensor it binds is stored in 16 bits.
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace vkattn {

// The fp16 build of an embedded kernel, found by the SPIR-V words of its float build (each op
// file holds its own copy of the array, so the address says nothing); empty if there is none.
std::span<const uint32_t> fp16_variant(std::span<const uint32_t> spirv);

// Every kernel's float and fp16 builds, for tests.
std::vector<std::pair<std::span<const uint32_t>, std::span<const uint32_t>>> fp16_variants();

}  // namespace vkattn
