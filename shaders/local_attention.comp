#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Stand-alone local self-attention (SASA, Ramachandran et al. 2019), fused: one invocation per
// (batch item, head, position) takes one online-softmax pass over its K x K window, never storing
// a score. Only window positions inside the image take part (none are padded). The score of
// offset (a, b) is q . (k + r(a, b)), r = concat(rel_h[:, a], rel_w[:, b]), written as that sum
// (not q.k + q.r) so that infinities combine as in PyTorch.
// NaN and infinities as in the fused attention (fused_attention.glsl): a NaN or +inf score makes
// the position's sum NaN, so its output and whole map row are NaN, as PyTorch's softmax gives.
// Bindings: 0 q, 1 k, 2 v: the head's D channels of (B, *, H, W) tensors, read as float texels
// (the lanes of a subgroup read neighbouring positions of one channel: one vector gather);
// 3 rel_h, 4 rel_w (D / 2, K); 5 y (B, heads D, H, W); 6 with MAP the map (B, heads, H W, K K),
// entry a K + b (0 outside the image), else y again, never written.
#include "common.glsl"
#include "exp.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint D = 2;  // channels per head, even
layout(constant_id = 1) const uint K = 1;  // window side, odd
layout(constant_id = 2) const bool MAP = false;

layout(binding = 0) uniform samplerBuffer q;
layout(binding = 1) uniform samplerBuffer k;
layout(binding = 2) uniform samplerBuffer v;
layout(binding = 3) uniform samplerBuffer rel_h;
layout(binding = 4) uniform samplerBuffer rel_w;
layout(std430, binding = 5) writeonly buffer YBuffer { value_t y[]; };
layout(std430, binding = 6) writeonly buffer MapBuffer { value_t map[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint H, W;
  uint heads;
  uint q_batch_stride, k_batch_stride, v_batch_stride;  // elements per batch item of each tensor
} p;

float at(samplerBuffer t, uint i) { return texelFetch(t, int(i)).x; }

// r(a, b)'s channel c: the first half from rel_h's column a, the second from rel_w's column b.
float rel(uint c, uint a, uint b) {
  return c < D / 2 ? at(rel_h, p.base3 + c * K + a) : at(rel_w, p.base4 + (c - D / 2) * K + b);
}

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  // Heads and positions of an item share one run of lanes, so that a small late feature map
  // (4x4: 16 positions) still fills the subgroups.
  const uint N = p.H * p.W;
  const uint batch = gid / p.groups_per_batch;
  const uint lane = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (lane >= p.heads * N) return;  // no barriers in this kernel, so lanes may leave early
  const uint head = lane / N, i = lane % N, row = i / p.W, col = i % p.W;
  // Element offsets of this head's channel 0 at position 0 in each tensor.
  const uint q0 = p.base0 + batch * p.q_batch_stride + head * D * N;
  const uint k0 = p.base1 + batch * p.k_batch_stride + head * D * N;
  const uint v0 = p.base2 + batch * p.v_batch_stride + head * D * N;

  float qi[D], acc[D];
  [[unroll]] for (uint c = 0; c < D; ++c) {
    qi[c] = at(q, q0 + c * N + i);
    acc[c] = 0.0;
  }
  // The window's rows and columns inside the image: [a0, a1) and [b0, b1) of 0 .. K - 1.
  const uint centre = K / 2;
  const uint a0 = centre > row ? centre - row : 0, a1 = min(p.H - row + centre, K);
  const uint b0 = centre > col ? centre - col : 0, b1 = min(p.W - col + centre, K);

  float m = -3.402823e38, l = 0.0;  // finite start: the first step's rescale factor is 0, not NaN
  for (uint a = a0; a < a1; ++a)
    for (uint b = b0; b < b1; ++b) {
      const uint j = (row + a - centre) * p.W + (col + b - centre);
      float s = 0.0;
      [[unroll]] for (uint c = 0; c < D; ++c) s = fma(qi[c], at(k, k0 + c * N + j) + rel(c, a, b), s);
      const float top = max(m, s), alpha = exp_fast(m - top), w = exp_fast(s - top);
      m = top;
      l = fma(l, alpha, w);
      [[unroll]] for (uint c = 0; c < D; ++c) acc[c] = fma(w, at(v, v0 + c * N + j), acc[c] * alpha);
    }

  const float norm = 1.0 / l;
  const uint y0 = p.base5 + (batch * p.heads + head) * D * N + i;
  [[unroll]] for (uint c = 0; c < D; ++c) y[y0 + c * N] = value_t(acc[c] * norm);
  if (!MAP) return;
  // The weights again from the final max and sum: recomputing q.(k + r) costs less than keeping
  // K K scores. Outside the image 0 * norm: 0, or NaN where the sum is (as PyTorch's e^-inf / NaN).
  const uint map0 = p.base6 + ((batch * p.heads + head) * N + i) * K * K;
  for (uint a = 0; a < K; ++a)
    for (uint b = 0; b < K; ++b) {
      float weight = 0.0;
      if (a >= a0 && a < a1 && b >= b0 && b < b1) {
        const uint j = (row + a - centre) * p.W + (col + b - centre);
        float s = 0.0;
        [[unroll]] for (uint c = 0; c < D; ++c) s = fma(qi[c], at(k, k0 + c * N + j) + rel(c, a, b), s);
        weight = exp_fast(s - m);
      }
      map[map0 + a * K + b] = value_t(weight * norm);
    }
}
