#version 450
#extension GL_GOOGLE_include_directive : require
// Adaptive max or average pooling, as PyTorch's: output (oy, ox) pools input rows
// floor(oy H / OH) to ceil((oy + 1) H / OH) (exclusive) and the columns alike, so windows differ in
// size and may overlap (or repeat rows when OH > H). One invocation per output element (c, oy, ox).
// Bindings: 0 in (B, C, H, W), 1 out (B, C, OH, OW).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const bool MAX = false;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint channels; uint in_h; uint in_w; uint out_h; uint out_w;
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint out_plane = p.out_h * p.out_w, count = p.channels * out_plane;
  const uint i = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= count) return;
  const uint c = i / out_plane, oy = (i % out_plane) / p.out_w, ox = i % p.out_w;
  const uint y0 = oy * p.in_h / p.out_h, y1 = ((oy + 1) * p.in_h + p.out_h - 1) / p.out_h;
  const uint x0 = ox * p.in_w / p.out_w, x1 = ((ox + 1) * p.in_w + p.out_w - 1) / p.out_w;
  const uint plane = p.base0 + (batch * p.channels + c) * p.in_h * p.in_w;
  float a = MAX ? -1.0 / 0.0 : 0.0;  // every window holds at least one element
  for (uint iy = y0; iy < y1; ++iy)
    for (uint ix = x0; ix < x1; ++ix) {
      const float v = x[plane + iy * p.in_w + ix];
      a = MAX ? max_nan(a, v) : a + v;  // a NaN in the window wins, as in PyTorch
    }
  y[p.base1 + batch * count + i] = value_t(MAX ? a : a / float((y1 - y0) * (x1 - x0)));
}
