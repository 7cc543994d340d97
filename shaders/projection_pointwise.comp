#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// 1x1 convolution for CPU drivers: P positions per invocation and MG output channels each. The
// weights come channel-major, 4 output channels to a vec4 texel, so every lane reads the same
// texel at the same time and one fetch feeds 4 outputs (lavapipe serves a whole-texel fetch with
// vector loads, where a float from a uniform or storage buffer is a per-lane gather); the input
// through float texels. The tiled GEMM's shared-memory tiles cost a per-lane loop and a
// coroutine switch per barrier there (DESIGN.md, "Speed"). Also the linear layer's kernel, with
// the batch rows as positions.
// Bindings: 0 x as float texels; 1 weights (C, padded4(M)) as vec4 texels
// (ops::output_major_weight); 2 bias (M); 3 y (B, M, N), or (B, N, M) when positions_major.
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint MG = 32;  // output channels per invocation, a multiple of 4
layout(constant_id = 1) const uint P = 4;    // positions per invocation
const uint GT = MG / 4;

layout(binding = 0) uniform samplerBuffer x;
layout(binding = 1) uniform samplerBuffer w;
layout(std430, binding = 2) readonly buffer BiasBuffer { float bias[]; };
layout(std430, binding = 3) writeonly buffer YBuffer { float y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint C;
  uint N;
  uint M;
  uint position_groups;   // workgroups along the positions
  uint positions_major;   // 1: y is (B, N, M)
  uint x_batch_stride;    // x[b * x_batch_stride + c * channel_stride + n * position_stride]:
  uint channel_stride;    // (B, C, N) for a projection, (N, C) with N the batch rows for linear
  uint position_stride;
  uint relu;              // 1: store max(y, 0) (a relu fused into this node)
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch, r = gid % p.groups_per_batch;
  const uint group = r / p.position_groups;
  // P consecutive positions; those past N repeat the last one and are not written.
  const uint n0 = ((r % p.position_groups) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * P;
  if (n0 >= p.N) return;  // no barriers here
  const uint m0 = group * MG, count = min(MG, p.M - m0);

  vec4 acc[P][GT];
  [[unroll]] for (uint q = 0; q < P; ++q)
    [[unroll]] for (uint g = 0; g < GT; ++g) acc[q][g] = vec4(0.0);
  // Texels: row c holds M4 of them; this group reads GT from `first`, the last ones clamped to
  // the row's last texel (a partial last group reads it again for channels it never writes).
  const int M4 = int(p.M + 3) / 4, first = int(p.base1 / 4 + m0 / 4), last = int(p.base1 / 4) + M4 - 1;
  int at[P];
  [[unroll]] for (uint q = 0; q < P; ++q)
    at[q] = int(p.base0 + batch * p.x_batch_stride + min(n0 + q, p.N - 1) * p.position_stride);
  for (uint c = 0; c < p.C; ++c) {
    vec4 v[P];
    [[unroll]] for (uint q = 0; q < P; ++q) v[q] = vec4(texelFetch(x, at[q] + int(c * p.channel_stride)).r);
    [[unroll]] for (uint g = 0; g < GT; ++g) {
      const vec4 wt = texelFetch(w, int(c) * M4 + min(first + int(g), last));
      [[unroll]] for (uint q = 0; q < P; ++q) acc[q][g] = fma(wt, v[q], acc[q][g]);
    }
  }
  [[unroll]] for (uint q = 0; q < P; ++q) {
    const uint n = n0 + q;
    if (n >= p.N) break;
    [[unroll]] for (uint m = 0; m < MG; ++m) {
      if (m >= count) break;
      const float sum = acc[q][m / 4][m % 4] + bias[p.base2 + m0 + m], v = p.relu != 0 ? max(sum, 0.0) : sum;
      if (p.positions_major != 0) y[p.base3 + (batch * p.N + n) * p.M + m0 + m] = v;
      else y[p.base3 + (batch * p.M + m0 + m) * p.N + n] = v;
    }
  }
}
