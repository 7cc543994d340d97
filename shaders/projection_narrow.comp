#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// 1x1 convolution or linear layer for the cpu profile when an item has fewer than 8 positions (a
// classifier's last layers at batch 1, a squeeze-excitation's pooled vector): with positions in
// the lanes (projection_pointwise.comp) most of a subgroup would idle, so here the lanes run over
// the output channels instead. A lane computes GT weight texels (4 output channels each) for all
// of the item's N <= NP positions: it reads its own texels, and the input value of a channel is
// the same for every lane.
// Bindings as projection_pointwise: 0 x as float texels; 1 weights (C, padded4(M)) as vec4
// texels (ops::output_major_weight); 2 bias (M) as float texels; 3 y (B, M, N), or (B, N, M) when
// POSITIONS_MAJOR; 4 the epilogue's residual (epilogue.glsl, specialization constants 4-7).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint GT = 1;  // weight texels per lane
layout(constant_id = 1) const uint NP = 1;  // positions per item, at most (the push constant N)
layout(constant_id = 2) const bool POSITIONS_MAJOR = false;  // y is (B, N, M)
layout(constant_id = 3) const bool VEC4_STORE = false;       // POSITIONS_MAJOR and M % 4 == 0

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
  uint x_batch_stride;  // x[b * x_batch_stride + c * channel_stride + n * position_stride]
  uint channel_stride;
  uint position_stride;
} p;

#define EPILOGUE_ID 4
#define RESIDUAL_BINDING 4
#define RESIDUAL_BASE p.base4
#define Y_BASE p.base3
#include "epilogue.glsl"

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;  // no barriers here
  const uint batch = gid / p.groups_per_batch;
  const int M4 = int(p.M + 3) / 4;
  const int t0 = int(((gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * GT);
  if (t0 >= M4) return;
  // Texels past the row's last are clamped to it: read again, never stored.
  const int first = int(p.base1 / 4) + t0, last = int(p.base1 / 4) + M4 - 1;

  vec4 acc[NP][GT];
  [[unroll]] for (uint q = 0; q < NP; ++q)
    [[unroll]] for (uint g = 0; g < GT; ++g) acc[q][g] = vec4(0.0);
  int at[NP];  // positions past N repeat the last one and are not stored
  [[unroll]] for (uint q = 0; q < NP; ++q)
    at[q] = int(p.base0 + batch * p.x_batch_stride + min(q, p.N - 1) * p.position_stride);
  for (uint c = 0; c < p.C; ++c) {
    vec4 wt[GT];
    [[unroll]] for (uint g = 0; g < GT; ++g) wt[g] = texelFetch(w, int(c) * M4 + min(first + int(g), last));
    [[unroll]] for (uint q = 0; q < NP; ++q) {
      const float v = texelFetch(x, at[q] + int(c * p.channel_stride)).r;
      [[unroll]] for (uint g = 0; g < GT; ++g) acc[q][g] = fma(wt[g], vec4(v), acc[q][g]);
    }
  }
  [[unroll]] for (uint g = 0; g < GT; ++g) {
    const uint m0 = 4 * uint(t0 + int(g));
    if (m0 >= p.M) break;
    vec4 b;
    [[unroll]] for (uint e = 0; e < 4; ++e) b[e] = texelFetch(bias, int(p.base2 + min(m0 + e, p.M - 1))).r;
    [[unroll]] for (uint q = 0; q < NP; ++q) {
      if (q >= p.N) break;
      const vec4 v = acc[q][g] + b;
      if (POSITIONS_MAJOR) {
        const uint at = p.base3 + (batch * p.N + q) * p.M + m0;
        if (VEC4_STORE) {
          y4[at / 4] = value4_t(epilogue(v, at));
        } else {
          [[unroll]] for (uint e = 0; e < 4; ++e)
            if (m0 + e < p.M) y[at + e] = value_t(epilogue(v[e], at + e));
        }
      } else {
        [[unroll]] for (uint e = 0; e < 4; ++e)
          if (m0 + e < p.M) {
            const uint at = p.base3 + (batch * p.M + m0 + e) * p.N + q;
            y[at] = value_t(epilogue(v[e], at));
          }
      }
    }
  }
}
