#version 450
#extension GL_GOOGLE_include_directive : require
// 1x1 convolution for CPU drivers: one position per invocation and MG output channels each, the
// weights of those channels read through a uniform buffer. Every lane reads the same weight at
// the same time, which lavapipe does with one scalar load, where the tiled GEMM's shared-memory
// tiles cost a per-lane loop and a coroutine switch per barrier (DESIGN.md, "Speed").
// One dispatch covers the output channels whose weight rows fit one uniform range.
// Also the linear layer's kernel, with the batch rows as positions.
// Bindings: 0 x (B, C, N), 1 weight rows of this dispatch (uniform), 2 bias (M), 3 y (B, M, N),
// or (B, N, M) when positions_major.
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
  uint C;
  uint N;
  uint M;
  uint m_first;           // first output channel of this dispatch
  uint position_groups;   // workgroups along the positions
  uint positions_major;   // 1: y is (B, N, M)
  uint x_batch_stride;    // x[b * x_batch_stride + c * channel_stride + n * position_stride]:
  uint channel_stride;    // (B, C, N) for a projection, (N, C) with N the batch rows for linear
  uint position_stride;
} p;

float w_at(uint e) { return w[e >> 2][e & 3]; }

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch, r = gid % p.groups_per_batch;
  const uint group = r / p.position_groups;
  const uint n = (r % p.position_groups) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (n >= p.N) return;  // no barriers here
  const uint m0 = p.m_first + group * MG, count = min(MG, p.M - m0);

  float acc[MG];
  for (uint m = 0; m < MG; ++m) acc[m] = 0.0;
  const uint x0 = p.base0 + batch * p.x_batch_stride + n * p.position_stride;
  const uint w0 = p.base1 + group * MG * p.C;  // row m0 of the bound weight rows
  if (count == MG) {
    for (uint c = 0; c < p.C; ++c) {
      const float xv = x[x0 + c * p.channel_stride];
      for (uint m = 0; m < MG; ++m) acc[m] = fma(w_at(w0 + m * p.C + c), xv, acc[m]);
    }
  } else {  // the last, partial group: rows past M are not bound
    for (uint c = 0; c < p.C; ++c) {
      const float xv = x[x0 + c * p.channel_stride];
      for (uint m = 0; m < MG; ++m)
        if (m < count) acc[m] = fma(w_at(w0 + m * p.C + c), xv, acc[m]);
    }
  }
  for (uint m = 0; m < MG; ++m) {
    if (m >= count) break;
    const float v = acc[m] + bias[p.base2 + m0 + m];
    if (p.positions_major != 0) y[p.base3 + (batch * p.N + n) * p.M + m0 + m] = v;
    else y[p.base3 + (batch * p.M + m0 + m) * p.N + n] = v;
  }
}
