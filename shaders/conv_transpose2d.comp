#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Transposed convolution (torch.nn.ConvTranspose2d) as a gather: each invocation computes one
// output position for MG output channels of one group, summing the input positions that reach
// it, so no two invocations write one element (no atomics). Input position i reaches output
// o = i stride - pad + k dilation, so for output o the taps are the k with
// (o + pad - k dilation) a multiple of the stride, which repeat every stride / gcd(stride,
// dilation) taps: each lane finds its first such tap and steps through them (for stride 2 that
// is a quarter of the taps), then takes every input channel of its group for each. Lanes run
// along the row first: neighbouring lanes read the same weight texels and neighbouring inputs.
// With PACKED (a constant weight: the builder adds a copy as ops::conv_transpose2d says) the
// weights of one input channel and tap come 4 output channels to a vec4 texel: all lanes fetch
// the same texel at once and it feeds 4 channels, where float texels take a gather per channel
// (on lavapipe that made the layer three times faster).
// Bindings: 0 x (B, C, H, W) as float texels; 1 weight (C, M / groups, KH, KW) as float texels,
// or with PACKED its copy (C KH KW, padded4(M / groups)) as vec4 texels; 2 bias (M) as float
// texels; 3 y (B, M, OH, OW).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint MG = 1;  // output channels per invocation; with PACKED a multiple of 4
layout(constant_id = 1) const bool PACKED = false;
const uint GT = (MG + 3) / 4;  // texels of MG channels

layout(binding = 0) uniform samplerBuffer x;
layout(binding = 1) uniform samplerBuffer w;
layout(binding = 2) uniform samplerBuffer bias;
layout(std430, binding = 3) writeonly buffer YBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint C; uint H; uint W;
  uint KH; uint KW;
  uint stride_h; uint stride_w; uint pad_h; uint pad_w; uint dilation_h; uint dilation_w;
  uint OH; uint OW; uint M;
  uint Cg; uint Mg;        // input and output channels per group
  uint blocks;             // blocks of MG output channels per group
  uint step_h; uint step_w;  // stride / gcd(stride, dilation): taps between two that reach one output
  uint lanes;              // invocations per batch item: M / Mg * blocks * OH * OW
} p;

// The first tap k < step with k dilation = t (mod stride), or past every tap when there is none
// (stride and dilation sharing a factor that t lacks).
uint first_tap(uint t, uint stride, uint dilation, uint step) {
  const uint r = t % stride;
  uint k = 0;
  while (k < step && (k * dilation) % stride != r) ++k;
  return k < step ? k : 0xffffffffu;
}

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint lane = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (lane >= p.lanes) return;
  const uint ox = lane % p.OW, row = lane / p.OW, oy = row % p.OH, block = row / p.OH;
  const uint group = block / p.blocks, first = (block % p.blocks) * MG;  // within the group
  const uint m0 = group * p.Mg + first, count = min(MG, p.Mg - first);

  float acc[MG];
  [[unroll]] for (uint m = 0; m < MG; ++m) acc[m] = 0.0;
  const uint ty = oy + p.pad_h, tx = ox + p.pad_w;  // o + pad = i stride + k dilation
  const uint ky0 = first_tap(ty, p.stride_h, p.dilation_h, p.step_h);
  const uint kx0 = first_tap(tx, p.stride_w, p.dilation_w, p.step_w);
  const int taps = int(p.KH * p.KW), plane = int(p.H * p.W);
  const int x0 = int(p.base0 + (batch * p.C + group * p.Cg) * p.H * p.W);
  // Weight (c, m, ky, kx) of input channel c of the group: the group's first input channel's
  // rows, then Mg * taps per channel. Channels of the last block past the group's end read the
  // last one again and are not stored.
  int w0[MG];
  [[unroll]] for (uint m = 0; m < MG; ++m)
    w0[m] = int(p.base1) + (int(group * p.Cg * p.Mg) + int(first + min(m, count - 1))) * taps;
  // Packed: row (c, tap) holds M4 texels; this lane reads GT from `first` / 4, the last ones
  // clamped to the row's last texel.
  const int M4 = int(p.Mg + 3) / 4, t0 = int(p.base1 / 4) + int(group * p.Cg) * taps * M4;
  for (uint ky = ky0; ky < p.KH; ky += p.step_h) {
    if (ky * p.dilation_h > ty) break;  // this and later taps start above the input
    const uint iy = (ty - ky * p.dilation_h) / p.stride_h;
    if (iy >= p.H) continue;
    for (uint kx = kx0; kx < p.KW; kx += p.step_w) {
      if (kx * p.dilation_w > tx) break;
      const uint ix = (tx - kx * p.dilation_w) / p.stride_w;
      if (ix >= p.W) continue;
      const int at = x0 + int(iy * p.W + ix), tap = int(ky * p.KW + kx);
      for (int c = 0; c < int(p.Cg); ++c) {
        const float v = texelFetch(x, at + c * plane).r;
        if (PACKED) {
          const int row = t0 + (c * taps + tap) * M4;
          [[unroll]] for (uint g = 0; g < GT; ++g) {
            const vec4 wt = texelFetch(w, row + min(int(first / 4 + g), M4 - 1));
            [[unroll]] for (uint e = 0; e < 4; ++e)
              if (4 * g + e < MG) acc[4 * g + e] = fma(wt[e], v, acc[4 * g + e]);
          }
        } else {
          [[unroll]] for (uint m = 0; m < MG; ++m)
            acc[m] = fma(texelFetch(w, w0[m] + c * int(p.Mg) * taps + tap).r, v, acc[m]);
        }
      }
    }
  }
  const uint out0 = p.base3 + ((batch * p.M + m0) * p.OH + oy) * p.OW + ox;
  [[unroll]] for (uint m = 0; m < MG; ++m)
    if (m < count) y[out0 + m * p.OH * p.OW] = value_t(acc[m] + texelFetch(bias, int(p.base2 + m0 + m)).r);
}
