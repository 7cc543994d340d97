#ifndef VKATTN_COMMON_GLSL
#define VKATTN_COMMON_GLSL

// The type tensors are stored in. The fp16 build of a kernel (compiled with VKATTN_FP16, picked by
// ExecutorOptions::precision) stores them as float16_t and still computes in float32: a load
// widens, a store narrows with value_t(v). Half arithmetic would need the Float16 capability,
// which no fp16 kernel may declare (tests/test_half_variants.cpp checks every module).
#ifdef VKATTN_FP16
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define value_t float16_t
#define value4_t f16vec4
#else
#define value_t float
#define value4_t vec4
#endif
// Shared by every kernel. The executor may split one node's dispatch over the batch so that each
// binding stays within maxStorageBufferRange; it fills this header for every such chunk.
//   baseN             element offset of binding N's data inside the bound range (the range is bound
//                     at an offset aligned down to minStorageBufferOffsetAlignment)
//   batches           batch items in this chunk
//   groups            workgroups that do work; the grid may hold a few more, which return at once
//   groups_per_batch  workgroups one batch item needs
#define VKATTN_PUSH_HEADER \
  uint base0; uint base1; uint base2; uint base3; uint base4; uint base5; uint base6; \
  uint batches; uint groups; uint groups_per_batch;

// The grid is 3-D only to stay within maxComputeWorkGroupCount; kernels see one linear index.
uint linear_group_id() {
  return gl_WorkGroupID.x + gl_NumWorkGroups.x * (gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z);
}

// max and relu that keep NaN, as PyTorch's max, max_pool2d, relu and clamp_min do. GLSL leaves
// max() of a NaN undefined (lavapipe's, LLVM maxnum, returns the other operand, so NaN vanished)
// and Mesa folds `a > b ? a : b` into that same max(), so the NaN test is written out.
float max_nan(float a, float b) { return isnan(a) || a > b ? a : b; }
vec4 max_nan(vec4 a, vec4 b) { return mix(mix(b, a, greaterThan(a, b)), a, isnan(a)); }
float min_nan(float a, float b) { return isnan(a) || a < b ? a : b; }
float relu(float v) { return max_nan(v, 0.0); }
vec4 relu(vec4 v) { return max_nan(v, vec4(0.0)); }

#endif
