#version 450
#extension GL_GOOGLE_include_directive : require
// Residual y = gamma * o + x, elementwise. gamma is a one-element weight buffer so a trained
// model's value is used as loaded. Bindings: 0 o, 1 x, 2 gamma (1), 3 y.
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer OBuffer { value_t o[]; };
layout(std430, binding = 1) readonly buffer XBuffer { value_t x[]; };
layout(std430, binding = 2) readonly buffer GammaBuffer { value_t gamma[]; };
layout(std430, binding = 3) writeonly buffer YBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint count;  // elements per batch item
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint i = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.count) return;
  const uint e = batch * p.count + i;
  y[p.base3 + e] = value_t(float(gamma[p.base2]) * o[p.base0 + e] + x[p.base1 + e]);
}
