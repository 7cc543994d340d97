#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// F.interpolate, nearest or bilinear, four consecutive output elements (c, oy, ox) of a batch item
// per invocation. The host works out each output row's and column's sources as PyTorch does
// (interpolate.cpp): a texel (i0, i1, l0, l1) per output row, then one per output column. Nearest
// copies x[i0 row, i0 column]; bilinear is PyTorch's sum (x[h, w0] l0w + x[h, w1] l1w) lh over the
// two rows h, every product taken even at weight 0, so that an infinity there gives NaN as it
// does in PyTorch. With VEC4_STORE (C*OH*OW a multiple of 4: the host's choice) the four outputs
// are one vec4 store. Bindings: 0 in (B, C, H, W), 1 sources (OH + OW texels), 2 out (B, C, OH, OW).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const bool NEAREST = false;
layout(constant_id = 1) const bool VEC4_STORE = false;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(binding = 1) uniform samplerBuffer sources;
layout(std430, binding = 2) writeonly buffer OutBuffer { value_t y[]; };
layout(std430, binding = 2) writeonly buffer OutBuffer4 { value4_t y4[]; };  // the same buffer

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint channels; uint in_h; uint in_w; uint out_h; uint out_w;
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint out_plane = p.out_h * p.out_w, count = p.channels * out_plane;
  const uint i0 = ((gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * 4;
  if (i0 >= count) return;
  // Where output i0 lies, worked out once (a vector integer division is a scalar loop on
  // lavapipe); the next three step along the row and wrap.
  uint c = i0 / out_plane, oy = (i0 % out_plane) / p.out_w, ox = i0 % p.out_w;
  const int first = int(p.base1 / 4);
  vec4 acc;
  [[unroll]] for (uint q = 0; q < 4; ++q) {
    if (q > 0) {  // past the end: a position that is never stored
      ++ox;
      if (ox == p.out_w) ox = 0, ++oy;
      if (oy == p.out_h) oy = 0, c = min(c + 1, p.channels - 1);
    }
    const vec4 row = texelFetch(sources, first + int(oy)), column = texelFetch(sources, first + int(p.out_h + ox));
    const uint plane = p.base0 + (batch * p.channels + c) * p.in_h * p.in_w;
    const uint h0 = plane + uint(row.x) * p.in_w, w0 = uint(column.x);
    if (NEAREST) {
      acc[q] = x[h0 + w0];
    } else {
      const uint h1 = plane + uint(row.y) * p.in_w, w1 = uint(column.y);
      const float top = x[h0 + w0] * column.z + x[h0 + w1] * column.w;
      const float bottom = x[h1 + w0] * column.z + x[h1 + w1] * column.w;
      acc[q] = top * row.z + bottom * row.w;
    }
  }
  const uint at = p.base2 + batch * count + i0;
  if (VEC4_STORE) {
    y4[at / 4] = value4_t(acc);
  } else {
    [[unroll]] for (uint q = 0; q < 4; ++q)
      if (i0 + q < count) y[at + q] = value_t(acc[q]);
  }
}
