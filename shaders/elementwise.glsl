// Four consecutive elements of a batch item per thread, for kernels that map each output element
// to one input element. The includer defines `float apply(float v)`; its own specialization
// constants start at id 1. With VEC4 (elements per batch item a multiple of 4: the host's choice)
// the four are one vec4 load and store (lavapipe loads and stores per lane in a loop, so a vec4
// costs about what a float does). Bindings: 0 in, 1 out, stored as value_t unless the includer
// defines IN_T and IN4_T, or OUT_T and OUT4_T (the precision casts).
#include "common.glsl"
#ifndef IN_T
#define IN_T value_t
#define IN4_T value4_t
#endif
#ifndef OUT_T
#define OUT_T value_t
#define OUT4_T value4_t
#endif

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const bool VEC4 = false;
layout(std430, binding = 0) readonly buffer InBuffer { IN_T x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { OUT_T y[]; };
layout(std430, binding = 0) readonly buffer InBuffer4 { IN4_T x4[]; };  // the same buffers
layout(std430, binding = 1) writeonly buffer OutBuffer4 { OUT4_T y4[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint count;  // elements per batch item
} p;

float apply(float v);

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint i = ((gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * 4;
  if (i >= p.count) return;
  const uint e = batch * p.count + i;
  if (VEC4) {
    const vec4 v = x4[(p.base0 + e) / 4];
    y4[(p.base1 + e) / 4] = OUT4_T(vec4(apply(v.x), apply(v.y), apply(v.z), apply(v.w)));
  } else {
    for (uint k = 0; k < 4 && i + k < p.count; ++k) y[p.base1 + e + k] = OUT_T(apply(x[p.base0 + e + k]));
  }
}
