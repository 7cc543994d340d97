#version 450
#extension GL_GOOGLE_include_directive : require
// Direct convolution for CPU drivers (the cpu profile): one output position per invocation and
// MG output channels each, their weights read through a uniform buffer, so every lane reads the
// same weight at the same time and each input value it loads serves MG channels. The tiled
// implicit GEMM (conv2d.comp) pays shared-memory stores, per-lane loads and barriers on lavapipe
// (DESIGN.md, "Speed"). One dispatch covers the output channels whose weights fit one uniform range.
// Bindings: 0 x (B, C, H, W); 1 weight rows (M, C*KH*KW) of this dispatch (uniform); 2 bias (M);
// 3 y (B, M, OH, OW).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint MG = 16;      // output channels per invocation
layout(constant_id = 1) const uint W_VEC4S = 1;  // the bound uniform range, in vec4s

layout(std430, binding = 0) readonly buffer XBuffer { float x[]; };
layout(std140, binding = 1) uniform WeightBlock { vec4 w[W_VEC4S]; };
layout(std430, binding = 2) readonly buffer BiasBuffer { float bias[]; };
layout(std430, binding = 3) writeonly buffer YBuffer { float y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint C; uint H; uint W;
  uint KH; uint KW;
  uint stride_h; uint stride_w; uint pad_h; uint pad_w;
  uint OH; uint OW;
  uint M;
  uint m_first;          // first output channel of this dispatch
  uint position_groups;  // workgroups along the output positions
} p;

float w_at(uint e) { return w[e >> 2][e & 3]; }

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch, r = gid % p.groups_per_batch;
  const uint group = r / p.position_groups;
  const uint n = (r % p.position_groups) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (n >= p.OH * p.OW) return;  // no barriers here
  const uint m0 = p.m_first + group * MG, count = min(MG, p.M - m0);
  const int oy = int(n / p.OW) * int(p.stride_h) - int(p.pad_h);
  const int ox = int(n % p.OW) * int(p.stride_w) - int(p.pad_w);

  float acc[MG];
  for (uint m = 0; m < MG; ++m) acc[m] = 0.0;
  const uint K = p.C * p.KH * p.KW;
  const uint w0 = p.base1 + group * MG * K;  // row m0 of the bound weight rows
  const uint x0 = p.base0 + batch * p.C * p.H * p.W;
  uint k = 0;
  for (uint c = 0; c < p.C; ++c)
    for (uint ky = 0; ky < p.KH; ++ky)
      for (uint kx = 0; kx < p.KW; ++kx, ++k) {
        const int iy = oy + int(ky), ix = ox + int(kx);
        const bool inside = iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W);
        const float loaded = x[inside ? x0 + (c * p.H + uint(iy)) * p.W + uint(ix) : x0];  // never out of range
        const float v = inside ? loaded : 0.0;
        for (uint m = 0; m < MG; ++m)  // rows past M (a partial last group) are read at row 0
          acc[m] = fma(w_at(w0 + (m < count ? m : 0) * K + k), v, acc[m]);
      }
  for (uint m = 0; m < MG; ++m) {
    if (m >= count) break;
    y[p.base3 + (batch * p.M + m0 + m) * p.OH * p.OW + n] = acc[m] + bias[p.base2 + m0 + m];
  }
}
