#version 450
#extension GL_GOOGLE_include_directive : require
// Mean over each channel's H*W plane: one workgroup per (b, c), a strided sum per
// thread and a tree reduction in shared memory, so planes of any size work.
// Bindings: 0 in (B, C, H, W), 1 out (B, C, 1, 1).
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint plane;  // H*W
} p;

shared float partial[gl_WorkGroupSize.x];

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;  // whole workgroup leaves together
  const uint t = gl_LocalInvocationID.x;
  const uint start = p.base0 + gid * p.plane;
  float sum = 0.0;
  for (uint i = t; i < p.plane; i += gl_WorkGroupSize.x) sum += x[start + i];
  partial[t] = sum;
  barrier();
  for (uint half_ = gl_WorkGroupSize.x / 2; half_ > 0; half_ >>= 1) {
    if (t < half_) partial[t] += partial[t + half_];
    barrier();
  }
  if (t == 0) y[p.base1 + gid] = value_t(partial[0] / float(p.plane));
}
