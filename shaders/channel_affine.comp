#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// y[b, c, i] = x[b, c, i] * scale[c] + shift[c]: eval-mode batch norm, folded on the host. Four
// consecutive elements per thread, one vec4 load and store with VEC4 (C * plane a multiple of 4);
// the channel is found with one integer division (a per-lane loop on lavapipe) and then stepped.
// Bindings: 0 x (B, C, plane), 1 scale (C) and 2 shift (C) as float texels, 3 y.
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const bool VEC4 = false;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(binding = 1) uniform samplerBuffer scale;
layout(binding = 2) uniform samplerBuffer shift;
layout(std430, binding = 3) writeonly buffer OutBuffer { value_t y[]; };
layout(std430, binding = 0) readonly buffer InBuffer4 { value4_t x4[]; };  // the same buffers
layout(std430, binding = 3) writeonly buffer OutBuffer4 { value4_t y4[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint C;
  uint plane;  // elements per channel: the product of the dimensions after C (1 for (B, C))
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch, count = p.C * p.plane;
  const uint e0 = ((gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * 4;
  if (e0 >= count) return;
  uint c = e0 / p.plane, r = e0 % p.plane;
  vec4 a, b;
  [[unroll]] for (uint k = 0; k < 4; ++k) {
    if (k > 0 && ++r == p.plane) r = 0, c = min(c + 1, p.C - 1);  // past the end: never stored
    a[k] = texelFetch(scale, int(p.base1 + c)).r;
    b[k] = texelFetch(shift, int(p.base2 + c)).r;
  }
  const uint at = batch * count + e0;
  if (VEC4) {
    y4[(p.base3 + at) / 4] = value4_t(fma(vec4(x4[(p.base0 + at) / 4]), a, b));
  } else {
    [[unroll]] for (uint k = 0; k < 4; ++k)
      if (e0 + k < count) y[p.base3 + at + k] = value_t(fma(float(x[p.base0 + at + k]), a[k], b[k]));
  }
}
