// The body of fused_attention.comp and fused_attention_additive.comp.
// Fused self-attention over one block of keys, never storing the N x N map. QB queries and CG
// value channels per invocation: each fetched key and value feeds QB queries (register blocking;
// the accumulators spill on lavapipe, which still costs less than fetching again), and the
// channel groups split the output (each group recomputes the cheap q.k). Online softmax: the
// running row max and sum live in `stats` and the unnormalised output in `o` between key blocks;
// the last block divides by the sum.
// Keys and values are read as RGBA32F texels: every lane reads the same key at the same time, and
// lavapipe serves a whole-texel fetch with vector loads and a transpose, where a float from a
// storage or uniform buffer is a per-lane gather (4x fewer load instructions, measured 2x faster).
// Keys are taken KC at a time: one rescale of the running output per step, not per key.
// Bindings: 0 q: channels of a (B, *, N) tensor; 1 kv: rows j = [k_j | v_j], each part padded to
// whole texels (ops::key_value_row); 2 stats (B, groups, 2, N); 3 o (B, Cv, N); 4 x (B, Cv, N)
// and 5 gamma (1): with `residual`, the last block leaves o = gamma softmax(s) v + x (the SAGAN
// block's epilogue; without it x is bound to o and gamma to q, never used); 6 the additive weights.

#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "exp.glsl"
#include "tanh.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint CQ = 1;   // query and key channels
layout(constant_id = 1) const uint CG = 32;  // value channels per invocation, a multiple of 4
const uint KT = (CQ + 3) / 4;                // key texels per row
const uint GT = CG / 4;                      // value texels per invocation
const uint KC = 8;                           // keys per step
layout(constant_id = 2) const uint QB = 8;   // queries per invocation

layout(std430, binding = 0) readonly buffer QBuffer { float q[]; };
layout(binding = 1) uniform samplerBuffer kv;
layout(std430, binding = 2) buffer StatsBuffer { float stats[]; };
layout(std430, binding = 3) buffer OBuffer { float o[]; };
layout(std430, binding = 4) readonly buffer XBuffer { float x[]; };
layout(std430, binding = 5) readonly buffer GammaBuffer { float gamma[]; };
#ifdef ADDITIVE
layout(std430, binding = 6) readonly buffer UBuffer { float u[]; };  // (Cq): the additive weights
#endif

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint N;              // queries (and keys) per batch item
  uint cv;             // value channels
  uint q_batch_stride; // elements per batch item of q's tensor
  uint kv_batch_stride;
  uint keys;           // keys in this block
  uint query_groups;   // workgroups along the queries of one channel group
  uint first_block;    // 1: start the running max, sum and output afresh
  uint last_block;     // 1: normalise and leave o = softmax(s) v
  float scale;
  uint residual;       // 1: the last block adds gamma * (its output) to x
} p;

float q_at(uint batch, uint c, uint i) { return q[p.base0 + batch * p.q_batch_stride + c * p.N + i]; }

// dot: qi holds scale * q (zero past CQ); additive: qi holds q and ui scale * u (zero past CQ).
vec4 qi[QB][KT];
#ifdef ADDITIVE
vec4 ui[KT];
#endif

// The score of query q of this lane against the key whose row starts at texel t.
float score(int t, uint q) {
  float s = 0.0;
  [[unroll]] for (uint c = 0; c < KT; ++c) {
    const vec4 k = texelFetch(kv, t + int(c));
#ifdef ADDITIVE
    const vec4 h = vec4(tanh_stable(qi[q][c].x + k.x), tanh_stable(qi[q][c].y + k.y), tanh_stable(qi[q][c].z + k.z),
                        tanh_stable(qi[q][c].w + k.w));
    s += dot(ui[c], h);
#else
    s += dot(qi[q][c], k);
#endif
  }
  return s;
}

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch, r = gid % p.groups_per_batch;
  const uint group = r / p.query_groups;
  // QB consecutive queries; those past N repeat the last one and are not written.
  const uint i0 = ((r % p.query_groups) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * QB;
  if (i0 >= p.N) return;  // no barriers in this kernel, so lanes may leave early
  const uint c0 = group * CG, count = min(CG, p.cv - c0);

  [[unroll]] for (uint q = 0; q < QB; ++q) {
    const uint i = min(i0 + q, p.N - 1);
    [[unroll]] for (uint c = 0; c < KT; ++c)
      [[unroll]] for (uint e = 0; e < 4; ++e) {
        const uint ch = 4 * c + e;
        const float x = ch < CQ ? q_at(batch, ch, i) : 0.0;
#ifdef ADDITIVE
        qi[q][c][e] = x;
        if (q == 0) ui[c][e] = ch < CQ ? p.scale * u[p.base6 + ch] : 0.0;
#else
        qi[q][c][e] = p.scale * x;
#endif
      }
  }

  const uint s0 = p.base2 + ((batch * (p.groups_per_batch / p.query_groups) + group) * 2) * p.N + i0;
  const uint o0 = p.base3 + (batch * p.cv + c0) * p.N + i0;
  float m[QB], l[QB];
  vec4 acc[QB][GT];
  [[unroll]] for (uint q = 0; q < QB; ++q) {
    m[q] = -3.402823e38;  // finite: the first step's rescale factor is 0, not NaN
    l[q] = 0.0;
    [[unroll]] for (uint c = 0; c < GT; ++c) acc[q][c] = vec4(0.0);
    if (p.first_block == 0 && i0 + q < p.N) {
      m[q] = stats[s0 + q];
      l[q] = stats[s0 + q + p.N];
      [[unroll]] for (uint c = 0; c < CG; ++c)
        if (c < count) acc[q][c / 4][c % 4] = o[o0 + c * p.N + q];
    }
  }

  // Texels: a row is KT key texels then the value texels; this group reads GT of them from
  // texel `v`, the last ones clamped to the row's last value texel (a partial last group reads
  // it again for channels it never writes back; no per-channel branch, which lavapipe would run).
  const int row = int(KT + (p.cv + 3) / 4), v = int(KT + c0 / 4);
  const int last = int(KT + (p.cv + 3) / 4 - 1);
  int t = int((p.base1 + batch * p.kv_batch_stride) / 4);
  uint j = 0;
  for (; j + KC <= p.keys; j += KC, t += int(KC) * row) {
    float w[QB][KC];
    [[unroll]] for (uint q = 0; q < QB; ++q) {
      float top = m[q];
      [[unroll]] for (uint k = 0; k < KC; ++k) {
        w[q][k] = score(t + int(k) * row, q);
        top = max(top, w[q][k]);
      }
      const float alpha = exp_fast(m[q] - top);  // 1 when the max did not move
      m[q] = top;
      l[q] *= alpha;
      [[unroll]] for (uint c = 0; c < GT; ++c) acc[q][c] *= alpha;
      [[unroll]] for (uint k = 0; k < KC; ++k) {
        w[q][k] = exp_fast(w[q][k] - top);
        l[q] += w[q][k];
      }
    }
    [[unroll]] for (uint k = 0; k < KC; ++k) {
      const int key = t + int(k) * row;
      [[unroll]] for (uint c = 0; c < GT; ++c) {
        const vec4 value = texelFetch(kv, key + min(v + int(c), last));
        [[unroll]] for (uint q = 0; q < QB; ++q) acc[q][c] = fma(vec4(w[q][k]), value, acc[q][c]);
      }
    }
  }
  for (; j < p.keys; ++j, t += row) {  // the last few keys, one at a time
    [[unroll]] for (uint q = 0; q < QB; ++q) {
      const float s = score(t, q);
      const float top = max(m[q], s), alpha = exp_fast(m[q] - top);
      m[q] = top;
      const float w = exp_fast(s - top);
      l[q] = fma(l[q], alpha, w);
      [[unroll]] for (uint c = 0; c < GT; ++c)
        acc[q][c] = fma(vec4(w), texelFetch(kv, t + min(v + int(c), last)), acc[q][c] * alpha);
    }
  }

  // The running max and sum stay behind after the last block too: the map kernel reads them.
  [[unroll]] for (uint q = 0; q < QB; ++q) {
    if (i0 + q >= p.N) break;
    stats[s0 + q] = m[q];
    stats[s0 + q + p.N] = l[q];
    const bool add = p.last_block != 0 && p.residual != 0;
    const float norm = p.last_block != 0 ? (add ? gamma[p.base5] : 1.0) / l[q] : 1.0;
    const uint x0 = p.base4 + (batch * p.cv + c0) * p.N + i0 + q;
    // A select, not a branch (a branch here kept the accumulators from being unrolled into
    // registers: the kernel ran 2x slower). Without the residual, x is o itself, so the index is
    // always in range.
    [[unroll]] for (uint c = 0; c < CG; ++c)
      if (c < count) o[o0 + c * p.N + q] = acc[q][c / 4][c % 4] * norm + (add ? x[x0 + c * p.N] : 0.0);
  }
}
