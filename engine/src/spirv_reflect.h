// Reads what a compute shader declares, so the host never writes it a second time.
#pragma once
#include <cstdint>
#include <map>
#include <span>

namespace vkattn {

struct ShaderInterface {
  uint32_t bindings = 0;             // descriptors in set 0: highest binding + 1
  uint32_t sampled_image_mask = 0;   // bit b set: binding b is a combined image sampler
  uint32_t storage_image_mask = 0;   // bit b set: binding b is a storage image
  uint32_t uniform_buffer_mask = 0;  // bit b set: binding b is a uniform buffer (else a storage buffer)
  uint32_t texel_buffer_mask = 0;    // bit b set: binding b is a uniform texel buffer (samplerBuffer)
  uint32_t push_constant_bytes = 0;  // size of the push-constant block (0 if none)
  uint32_t local_size[3] = {1, 1, 1};
  std::map<uint32_t, uint32_t> spec_constants;  // SpecId -> default value (32-bit scalars)
  // Storage buffer binding -> bytes of one float of its array (4, or 2 in an fp16 build; 0 where
  // the block holding it is not an array of floats or vectors of them, or two aliases disagree).
  std::map<uint32_t, uint32_t> storage_float_bytes;

  // The default of specialization constant `id`; throws if the shader declares none.
  uint32_t spec_constant(uint32_t id) const;
};

// Throws vkattn::Error if the words are not a SPIR-V module it can read.
ShaderInterface reflect(std::span<const uint32_t> spirv);

}  // namespace vkattn
