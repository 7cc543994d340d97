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
// With VEC4_STORE (the host's choice where the layout allows it) whole vec4s of y are stored at
// once: a lane's 4 positions of a channel in (B, M, N), or 4 channels of a position in (B, N, M);
// lavapipe stores per lane in a loop, so one vec4 store costs about what one float store does.
// Bindings: 0 x as float texels; 1 weights (C, padded4(M)) as vec4 texels
// (ops::output_major_weight); 2 bias (M) as float texels; 3 y (B, M, N), or (B, N, M) when
// POSITIONS_MAJOR; 4 the epilogue's residual (epilogue.glsl, specialization constants 4-7).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint MG = 64;  // output channels per invocation, a multiple of 4
layout(constant_id = 1) const uint P = 4;    // positions per invocation (ops::lane_tile)
layout(constant_id = 2) const bool POSITIONS_MAJOR = false;  // y is (B, N, M)
layout(constant_id = 3) const bool VEC4_STORE = false;       // P % 4 == 0 and N % 4 == 0, or M % 4 == 0 when POSITIONS_MAJOR
const uint GT = MG / 4;
const uint U = 4;  // input channels a step of the channel loop
#include "packed_lanes.glsl"

layout(binding = 0) uniform samplerBuffer x;
layout(binding = 1) uniform samplerBuffer w;
layout(binding = 2) uniform samplerBuffer bias;
layout(std430, binding = 3) writeonly buffer YBuffer { value_t y[]; };
layout(std430, binding = 3) writeonly buffer YBuffer4 { value4_t y4[]; };  // the same buffer

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint C;
  uint N;
  uint M;
  uint position_groups;   // workgroups along the positions
  uint x_batch_stride;    // x[b * x_batch_stride + c * channel_stride + n * position_stride]:
  uint channel_stride;    // (B, C, N) for a projection, (N, C) with N the batch rows for linear
  uint position_stride;
  uint items;             // batch items per unit (ops::items_per_unit): their lanes follow each other
} p;

#define EPILOGUE_ID 4
#define RESIDUAL_BINDING 4
#define RESIDUAL_BASE p.base4
#define Y_BASE p.base3
#include "epilogue.glsl"
#include "store_channel_major.glsl"

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  uint batch, group, lane;
  if (!packed_lane(gid, p.groups_per_batch, p.position_groups, (p.N + P - 1) / P, p.items, batch, group, lane))
    return;  // no barriers here
  // P consecutive positions; those past N repeat the last one and are not written.
  const uint n0 = lane * P;
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
  // U channels a step, then the rest one at a time: lavapipe stores each accumulator back (a
  // masked store inside the loop) once a step, so U multiply-adds share one store.
  const uint CU = p.C - p.C % U;
  for (uint c = 0; c < CU; c += U) {
    vec4 v[U][P];
    [[unroll]] for (uint j = 0; j < U; ++j)
      [[unroll]] for (uint q = 0; q < P; ++q) v[j][q] = vec4(texelFetch(x, at[q] + int((c + j) * p.channel_stride)).r);
    [[unroll]] for (uint g = 0; g < GT; ++g) {
      vec4 wt[U];
      [[unroll]] for (uint j = 0; j < U; ++j) wt[j] = texelFetch(w, int(c + j) * M4 + min(first + int(g), last));
      [[unroll]] for (uint q = 0; q < P; ++q) {
        vec4 a = acc[q][g];
        [[unroll]] for (uint j = 0; j < U; ++j) a = fma(wt[j], v[j][q], a);
        acc[q][g] = a;
      }
    }
  }
  for (uint c = CU; c < p.C; ++c) {
    vec4 v[P];
    [[unroll]] for (uint q = 0; q < P; ++q) v[q] = vec4(texelFetch(x, at[q] + int(c * p.channel_stride)).r);
    [[unroll]] for (uint g = 0; g < GT; ++g) {
      const vec4 wt = texelFetch(w, int(c) * M4 + min(first + int(g), last));
      [[unroll]] for (uint q = 0; q < P; ++q) acc[q][g] = fma(wt, v[q], acc[q][g]);
    }
  }
  float b[MG];  // a texel gather for all lanes, where a storage-buffer float is a per-lane loop
  [[unroll]] for (uint m = 0; m < MG; ++m) b[m] = texelFetch(bias, int(p.base2 + m0 + min(m, count - 1))).r;
  if (POSITIONS_MAJOR) {
    [[unroll]] for (uint q = 0; q < P; ++q) {
      const uint n = n0 + q;
      if (n >= p.N) break;
      const uint at = p.base3 + (batch * p.N + n) * p.M + m0;
      if (VEC4_STORE) {
        [[unroll]] for (uint g = 0; g < GT; ++g) {
          if (4 * g >= count) break;
          const vec4 v = acc[q][g] + vec4(b[4 * g], b[4 * g + 1], b[4 * g + 2], b[4 * g + 3]);
          y4[at / 4 + g] = value4_t(epilogue(v, at + 4 * g));
        }
      } else {
        [[unroll]] for (uint m = 0; m < MG; ++m) {
          if (m >= count) break;
          const float v = acc[q][m / 4][m % 4] + b[m];
          y[at + m] = value_t(epilogue(v, at + m));
        }
      }
    }
  } else {
    store_channel_major(acc, b, p.base3 + (batch * p.M + m0) * p.N + n0, p.N, n0, count);
  }
}
