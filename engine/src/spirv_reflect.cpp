#include "spirv_reflect.h"

#include <algorithm>
#include <map>
#include <vector>

#include "vkattn/error.h"

namespace vkattn {
namespace {

// The few SPIR-V opcodes and enums this reader needs (SPIR-V specification, section 3).
enum : uint32_t {
  OpExecutionMode = 16, OpTypeInt = 21, OpTypeFloat = 22, OpTypeVector = 23, OpTypeArray = 28, OpTypeRuntimeArray = 29,
  OpTypeImage = 25, OpTypeSampledImage = 27, DimBuffer = 5, OpTypeStruct = 30, OpTypePointer = 32, OpConstant = 43, OpSpecConstant = 50, OpVariable = 59, OpDecorate = 71,
  OpMemberDecorate = 72, ModeLocalSize = 17, DecorationSpecId = 1, DecorationArrayStride = 6, DecorationBinding = 33,
  DecorationDescriptorSet = 34, DecorationOffset = 35, StorageUniform = 2, StoragePushConstant = 9,
  kMagic = 0x07230203,
};

struct Module {
  std::map<uint32_t, std::vector<uint32_t>> types;  // result id -> whole instruction
  std::map<uint32_t, uint32_t> constants, array_stride;
  std::map<uint32_t, std::map<uint32_t, uint32_t>> member_offset;  // struct -> member -> offset

  uint32_t size_of(uint32_t type) const {
    const auto& t = types.at(type);
    switch (t[0] & 0xffff) {
      case OpTypeInt:
      case OpTypeFloat: return t[2] / 8;
      case OpTypeVector: return size_of(t[2]) * t[3];
      case OpTypeArray: return array_stride.at(type) * constants.at(t[3]);
      case OpTypeStruct: {
        uint32_t end = 0;
        for (size_t m = 0; m + 2 < t.size(); ++m)
          end = std::max(end, member_offset.at(t[1]).at(static_cast<uint32_t>(m)) + size_of(t[2 + m]));
        return end;
      }
      default: throw Error("A shader's push constants use a type the SPIR-V reader does not know.");
    }
  }

  // A block whose first member is a runtime array of floats or float vectors (a storage buffer as
  // the kernels declare them): the bytes of one float; else 0.
  uint32_t array_float_bytes(uint32_t block) const {
    auto type = [&](uint32_t id) -> const std::vector<uint32_t>* {
      const auto it = types.find(id);
      return it == types.end() ? nullptr : &it->second;
    };
    const auto* s = type(block);
    if (!s || ((*s)[0] & 0xffff) != OpTypeStruct || s->size() < 3) return 0;
    const auto* array = type((*s)[2]);
    if (!array || ((*array)[0] & 0xffff) != OpTypeRuntimeArray) return 0;
    const auto* element = type((*array)[2]);
    if (element && ((*element)[0] & 0xffff) == OpTypeVector) element = type((*element)[2]);
    return element && ((*element)[0] & 0xffff) == OpTypeFloat ? (*element)[2] / 8 : 0;
  }
};

}  // namespace

uint32_t ShaderInterface::spec_constant(uint32_t id) const {
  const auto it = spec_constants.find(id);
  if (it == spec_constants.end())
    throw Error("Internal error: a shader lacks specialization constant " + std::to_string(id) + ".");
  return it->second;
}

ShaderInterface reflect(std::span<const uint32_t> spirv) {
  if (spirv.size() < 5 || spirv[0] != kMagic) throw Error("An embedded shader is not valid SPIR-V.");
  ShaderInterface out;
  Module mod;
  std::map<uint32_t, uint32_t> binding, set;
  std::map<uint32_t, uint32_t> pointee;  // pointer type -> pointed-to type
  uint32_t push_pointer_type = 0;
  std::map<uint32_t, uint32_t> variable_type;  // variable id -> its pointer type
  std::map<uint32_t, uint32_t> variable_storage;  // variable id -> its storage class
  std::vector<uint32_t> sampled_types, texel_types;  // sampled images; those of Dim Buffer (samplerBuffer)
  std::vector<uint32_t> buffer_images, storage_types;  // storage: images with Sampled = 2
  std::map<uint32_t, uint32_t> spec_id, spec_default;  // result id -> SpecId, default value
  for (size_t i = 5; i < spirv.size();) {
    const uint32_t count = spirv[i] >> 16, op = spirv[i] & 0xffff;
    if (count == 0 || i + count > spirv.size()) throw Error("An embedded shader's SPIR-V is truncated.");
    const uint32_t* w = &spirv[i];
    if (op == OpDecorate && count >= 4) {
      if (w[2] == DecorationBinding) binding[w[1]] = w[3];
      if (w[2] == DecorationDescriptorSet) set[w[1]] = w[3];
      if (w[2] == DecorationArrayStride) mod.array_stride[w[1]] = w[3];
      if (w[2] == DecorationSpecId) spec_id[w[1]] = w[3];
    } else if (op == OpMemberDecorate && count >= 5 && w[3] == DecorationOffset) {
      mod.member_offset[w[1]][w[2]] = w[4];
    } else if (op == OpExecutionMode && count >= 6 && w[2] == ModeLocalSize) {
      out.local_size[0] = w[3], out.local_size[1] = w[4], out.local_size[2] = w[5];
    } else if (op == OpTypeInt || op == OpTypeFloat || op == OpTypeVector || op == OpTypeArray ||
               op == OpTypeRuntimeArray || op == OpTypeStruct) {
      mod.types[w[1]] = std::vector<uint32_t>(w, w + count);
    } else if (op == OpTypePointer && count >= 4) {
      pointee[w[1]] = w[3];
    } else if (op == OpConstant && count >= 4) {
      mod.constants[w[2]] = w[3];
    } else if (op == OpSpecConstant && count >= 4) {
      spec_default[w[2]] = w[3];
    } else if (op == OpTypeImage && count >= 4) {
      if (w[3] == DimBuffer) buffer_images.push_back(w[1]);
      else if (count >= 9 && w[7] == 2) storage_types.push_back(w[1]);
    } else if (op == OpTypeSampledImage && count >= 3) {
      (std::count(buffer_images.begin(), buffer_images.end(), w[2]) ? texel_types : sampled_types).push_back(w[1]);
    } else if (op == OpVariable && count >= 4) {
      if (w[3] == StoragePushConstant) push_pointer_type = w[1];
      variable_type[w[2]] = w[1];
      variable_storage[w[2]] = w[3];
    }
    i += count;
  }
  for (const auto& [id, b] : binding)
    if (set.count(id) && set[id] == 0) {
      out.bindings = std::max(out.bindings, b + 1);
      const auto v = variable_type.find(id);
      const uint32_t type = v != variable_type.end() && pointee.count(v->second) ? pointee[v->second] : 0;
      if (std::count(sampled_types.begin(), sampled_types.end(), type)) out.sampled_image_mask |= 1u << b;
      if (std::count(texel_types.begin(), texel_types.end(), type)) out.texel_buffer_mask |= 1u << b;
      if (std::count(storage_types.begin(), storage_types.end(), type)) out.storage_image_mask |= 1u << b;
      if (variable_storage.count(id) && variable_storage[id] == StorageUniform) out.uniform_buffer_mask |= 1u << b;
      if (const uint32_t bytes = mod.array_float_bytes(type); bytes) {
        const auto [at, fresh] = out.storage_float_bytes.emplace(b, bytes);
        if (!fresh && at->second != bytes) at->second = 0;
      }
    }
  for (const auto& [id, value] : spec_default)
    if (spec_id.count(id)) out.spec_constants[spec_id[id]] = value;
  if (push_pointer_type) out.push_constant_bytes = mod.size_of(pointee.at(push_pointer_type));
  return out;
}

}  // namespace vkattn
