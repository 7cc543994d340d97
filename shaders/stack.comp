#version 450
#extension GL_GOOGLE_include_directive : require
// One input's slot of a stack: count elements of each batch item copied to where the item's
// slot lies in the stacked output (the output's items are k inputs long). One thread per element.
// Bindings: 0 in, bound from the block's first element; 1 out, likewise.
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint count;       // elements this dispatch copies per batch item
  uint in_stride;   // elements per input item
  uint out_stride;  // elements per output item: k times in_stride
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint i = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.count) return;
  y[p.base1 + batch * p.out_stride + i] = value_t(x[p.base0 + batch * p.in_stride + i]);
}
