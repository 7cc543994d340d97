#version 450
#extension GL_GOOGLE_include_directive : require
// Mean over each channel's H*W plane when planes are small (a squeeze-and-excitation block late
// in a network: 7x7): one thread per (b, c) plane summing it in order, where a workgroup per
// plane would spend its time in barriers. Bindings: 0 in (B, C, H, W), 1 out (B, C, 1, 1).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint plane;     // H*W
  uint channels;  // C
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint c = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (c >= p.channels) return;
  const uint start = p.base0 + (batch * p.channels + c) * p.plane;
  float sum = 0.0;
  for (uint i = 0; i < p.plane; ++i) sum += x[start + i];
  y[p.base1 + batch * p.channels + c] = value_t(sum / float(p.plane));
}
