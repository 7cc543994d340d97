#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Direct convolution for CPU drivers (the cpu profile): P output positions per invocation and
// MG output channels each (each weight fetch feeds P positions). The weights come k-major, 4 output channels to a vec4 texel, so every
// lane reads the same texel at the same time and one fetch feeds 4 channels (lavapipe serves a
// whole-texel fetch with vector loads, where a float from a uniform or storage buffer is a
// per-lane gather); the input through float texels (one vector gather for the lanes). The tiled
// implicit GEMM (conv2d.comp) pays shared-memory stores, per-lane loads and barriers on lavapipe.
// With VEC4_STORE (the host's choice) a lane's positions for one channel are whole vec4s of y,
// stored at once (store_channel_major.glsl). With POOL (P = 4) a lane's positions are one 2x2
// window and it stores the max of their epilogues: a 2x2 max pool with stride 2 folded in.
// Bindings: 0 x (B, C, H, W) as float texels; 1 weights (C*KH*KW, padded4(M)) as vec4 texels
// (ops::output_major_weight); 2 bias (M) as float texels; 3 y (B, M, OH, OW), or with POOL
// (B, M, OH / 2, OW / 2); 4 the epilogue's residual (epilogue.glsl, specialization constants 4-7).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint MG = 64;  // output channels per invocation, a multiple of 4
layout(constant_id = 1) const uint P = 4;    // output positions per invocation (ops::lane_tile; 4 with POOL)
layout(constant_id = 2) const bool VEC4_STORE = false;
layout(constant_id = 3) const bool POOL = false;
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
  uint C; uint H; uint W;
  uint KH; uint KW;
  uint stride_h; uint stride_w; uint pad_h; uint pad_w;
  uint OH; uint OW;      // the convolution's output
  uint M;
  uint position_groups;  // workgroups along the stored positions
  uint YH; uint YW;      // what is stored: OH x OW, or with POOL the pooled OH / 2 x OW / 2
  uint items;            // batch items per unit (ops::items_per_unit): their lanes follow each other
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
  const uint positions = p.YH * p.YW;
  uint batch, group, lane;
  if (!packed_lane(gid, p.groups_per_batch, p.position_groups, POOL ? positions : (positions + P - 1) / P, p.items,
                   batch, group, lane))
    return;  // no barriers here
  const uint n0 = POOL ? lane : lane * P;  // the first stored position
  const uint m0 = group * MG, count = min(MG, p.M - m0);
  // Without POOL, P consecutive positions (those past the end repeat the last one and are not
  // written); with it, the 2x2 window of pooled position n0. One integer division (a per-lane loop
  // on lavapipe), then steps.
  uint cy = POOL ? 2 * (n0 / p.YW) : n0 / p.OW, cx = POOL ? 2 * (n0 % p.YW) : n0 % p.OW;
  int oy[P], ox[P];
  [[unroll]] for (uint q = 0; q < P; ++q) {
    if (POOL) {
      oy[q] = int(cy + q / 2) * int(p.stride_h) - int(p.pad_h);
      ox[q] = int(cx + q % 2) * int(p.stride_w) - int(p.pad_w);
    } else {
      if (q > 0 && n0 + q < positions && ++cx == p.OW) cx = 0, ++cy;
      oy[q] = int(cy) * int(p.stride_h) - int(p.pad_h);
      ox[q] = int(cx) * int(p.stride_w) - int(p.pad_w);
    }
  }

  vec4 acc[P][GT];
  [[unroll]] for (uint q = 0; q < P; ++q)
    [[unroll]] for (uint g = 0; g < GT; ++g) acc[q][g] = vec4(0.0);
  // Texels: row k holds M4 of them; this group reads GT from `first`, the last ones clamped to
  // the row's last texel (a partial last group reads it again for channels it never writes).
  const int M4 = int(p.M + 3) / 4, first = int(p.base1 / 4 + m0 / 4), last = int(p.base1 / 4) + M4 - 1;
  const uint x0 = p.base0 + batch * p.C * p.H * p.W;
  // Taps outside, channels inside: where a tap lands and whether it is padding is worked out
  // once per tap, and the channel loop only steps both indices (k = (c KH + ky) KW + kx).
  const int plane = int(p.H * p.W), taps = int(p.KH * p.KW);
  for (uint ky = 0; ky < p.KH; ++ky)
    for (uint kx = 0; kx < p.KW; ++kx) {
      int at[P];  // the tap's input index for channel 0 (the item's first element in the padding)
      bool keep[P];  // inside the image (a select, not a product: padding is 0 even next to an inf)
      [[unroll]] for (uint q = 0; q < P; ++q) {
        const int iy = oy[q] + int(ky), ix = ox[q] + int(kx);
        const bool inside = iy >= 0 && iy < int(p.H) && ix >= 0 && ix < int(p.W);
        at[q] = int(x0) + (inside ? iy * int(p.W) + ix : 0);
        keep[q] = inside;
      }
      int wk = (int(ky) * int(p.KW) + int(kx)) * M4;
      // U channels a step, then the rest one at a time: lavapipe stores each accumulator back
      // (a masked store inside the loop) once a step, so U multiply-adds share one store.
      const uint CU = p.C - p.C % U;
      for (uint c = 0; c < CU; c += U, wk += int(U) * taps * M4) {
        vec4 v[U][P];
        [[unroll]] for (uint j = 0; j < U; ++j)
          [[unroll]] for (uint q = 0; q < P; ++q)
            v[j][q] = vec4(keep[q] ? texelFetch(x, at[q] + int(c + j) * plane).r : 0.0);
        [[unroll]] for (uint g = 0; g < GT; ++g) {
          vec4 wt[U];
          [[unroll]] for (uint j = 0; j < U; ++j) wt[j] = texelFetch(w, wk + int(j) * taps * M4 + min(first + int(g), last));
          [[unroll]] for (uint q = 0; q < P; ++q) {
            vec4 a = acc[q][g];
            [[unroll]] for (uint j = 0; j < U; ++j) a = fma(wt[j], v[j][q], a);
            acc[q][g] = a;
          }
        }
      }
      for (uint c = CU; c < p.C; ++c, wk += taps * M4) {
        vec4 v[P];
        [[unroll]] for (uint q = 0; q < P; ++q) v[q] = vec4(keep[q] ? texelFetch(x, at[q] + int(c) * plane).r : 0.0);
        [[unroll]] for (uint g = 0; g < GT; ++g) {
          const vec4 wt = texelFetch(w, wk + min(first + int(g), last));
          [[unroll]] for (uint q = 0; q < P; ++q) acc[q][g] = fma(wt, v[q], acc[q][g]);
        }
      }
    }
  float b[MG];  // a texel gather for all lanes, where a storage-buffer float is a per-lane loop
  [[unroll]] for (uint m = 0; m < MG; ++m) b[m] = texelFetch(bias, int(p.base2 + m0 + min(m, count - 1))).r;
  if (POOL) {  // the plan folds no residual here: it would have the shape before pooling
    [[unroll]] for (uint m = 0; m < MG; ++m)
      if (m < count) {
        const uint g = m / 4, e = m % 4, at = p.base3 + (batch * p.M + m0 + m) * positions + n0;
        const float v0 = epilogue(acc[0][g][e] + b[m], at), v1 = epilogue(acc[1][g][e] + b[m], at),
                    v2 = epilogue(acc[2][g][e] + b[m], at), v3 = epilogue(acc[3][g][e] + b[m], at);
        y[at] = value_t(max_nan(max_nan(v0, v1), max_nan(v2, v3)));
      }
  } else {
    store_channel_major(acc, b, p.base3 + (batch * p.M + m0) * positions + n0, positions, n0, count);
  }
}
