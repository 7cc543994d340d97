#version 450
#extension GL_GOOGLE_include_directive : require
// y[b, c, i] = x[b, c, i] * gate[b, c]: the excitation step of squeeze-and-excitation.
// Bindings: 0 x (B, C, H, W), 1 gate (B, C), 2 y.
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer InBuffer { float x[]; };
layout(std430, binding = 1) readonly buffer GateBuffer { float gate[]; };
layout(std430, binding = 2) writeonly buffer OutBuffer { float y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint C;
  uint plane;  // H * W
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint e = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (e >= p.C * p.plane) return;
  const uint at = batch * p.C * p.plane + e;
  y[p.base2 + at] = x[p.base0 + at] * gate[p.base1 + batch * p.C + e / p.plane];
}
