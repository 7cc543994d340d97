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
// NaN and infinities come out as in PyTorch's softmax(s) v without a test in the loop: a NaN
// score gives a NaN weight (exp_fast keeps NaN), whatever max() made of it, so the row's sum and
// output are NaN; a +inf score makes the max +inf and its weight e^(inf - inf) = NaN; a row of
// -inf alone keeps the finite starting max, weights e^-inf = 0 and so a sum of 0 and 0 / 0 = NaN;
// a -inf among finite scores weighs 0. The map kernel reads the same max and sum.
// Bindings: 0 q: channels of a (B, *, N) tensor; 1 kv: rows j = [k_j | v_j], each part padded to
// whole texels (ops::key_value_row); 2 stats (B, groups, 2, N); 3 o (B, Cv, N); 4 x (B, Cv, N)
// and 5 gamma (1): with `residual`, the last block leaves o = gamma softmax(s) v + x (the SAGAN
// block's epilogue; without it x is bound to o and gamma to q, never used); 6 the additive weights.
// With VEC4 (QB a multiple of 4 and N too: the host's choice) q, stats, o and x are read and
// written a vec4 of 4 consecutive queries at a time: lavapipe loads and stores storage buffers
// per lane in a loop, so a vec4 costs about what a float does.

#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "exp.glsl"
#include "tanh.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
#include "packed_lanes.glsl"
layout(constant_id = 0) const uint CQ = 1;   // query and key channels
layout(constant_id = 1) const uint CG = 32;  // value channels per invocation, a multiple of 4
const uint KT = (CQ + 3) / 4;                // key texels per row
const uint GT = CG / 4;                      // value texels per invocation
const uint KC = 8;                           // keys per step
layout(constant_id = 2) const uint QB = 8;   // queries per invocation
layout(constant_id = 3) const bool VEC4 = false;

layout(std430, binding = 0) readonly buffer QBuffer { value_t q[]; };
layout(binding = 1) uniform samplerBuffer kv;
layout(std430, binding = 2) buffer StatsBuffer { value_t stats[]; };
layout(std430, binding = 3) buffer OBuffer { value_t o[]; };
layout(std430, binding = 4) readonly buffer XBuffer { value_t x[]; };
layout(std430, binding = 5) readonly buffer GammaBuffer { value_t gamma[]; };
// The same buffers, 4 floats at a time.
layout(std430, binding = 0) readonly buffer QBuffer4 { value4_t q4[]; };
layout(std430, binding = 2) buffer StatsBuffer4 { value4_t stats4[]; };
layout(std430, binding = 3) buffer OBuffer4 { value4_t o4[]; };
layout(std430, binding = 4) readonly buffer XBuffer4 { value4_t x4[]; };
#ifdef ADDITIVE
layout(std430, binding = 6) readonly buffer UBuffer { value_t u[]; };  // (Cq): the additive weights
#endif

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint N;              // queries (and keys) per batch item
  uint cv;             // value channels
  uint q_batch_stride; // elements per batch item of q's tensor
  uint kv_batch_stride;
  uint keys;           // keys in this block
  uint query_groups;   // workgroups along the queries of a unit's items, for one channel group
  uint first_block;    // 1: start the running max, sum and output afresh
  uint last_block;     // 1: normalise and leave o = softmax(s) v
  float scale;
  uint residual;       // 1: the last block adds gamma * (its output) to x
  uint items;          // batch items per unit (ops::items_per_unit): their lanes follow each other
} p;

float q_at(uint batch, uint c, uint i) { return q[p.base0 + batch * p.q_batch_stride + c * p.N + i]; }
vec4 q4_at(uint batch, uint c, uint i) { return q4[(p.base0 + batch * p.q_batch_stride + c * p.N + i) / 4]; }

// dot: qi holds scale * q (zero past CQ); additive: qi holds q and ui scale * u (zero past CQ).
vec4 qi[QB][KT];
#ifdef ADDITIVE
vec4 ui[KT];
#endif

// Key texel c of the row at texel t, its lanes past CQ zero: the projection fills them with
// 0 * x, which is NaN where x holds NaN or an infinity, and 0 * NaN would reach every score.
vec4 key_texel(int t, uint c) {
  const vec4 k = texelFetch(kv, t + int(c));
  const uint valid = c + 1 < KT ? 4 : CQ - 4 * c;  // constant once the loops are unrolled
  return vec4(k.x, valid > 1 ? k.y : 0.0, valid > 2 ? k.z : 0.0, valid > 3 ? k.w : 0.0);
}

// The score of query q of this lane against the key whose row starts at texel t.
float score(int t, uint q) {
  float s = 0.0;
  [[unroll]] for (uint c = 0; c < KT; ++c) {
    const vec4 k = key_texel(t, c);
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
  uint batch, group, lane;
  if (!packed_lane(gid, p.groups_per_batch, p.query_groups, (p.N + QB - 1) / QB, p.items, batch, group, lane))
    return;  // no barriers in this kernel, so lanes may leave early
  // QB consecutive queries; those past N repeat the last one and are not written.
  const uint i0 = lane * QB;
  const uint c0 = group * CG, count = min(CG, p.cv - c0);

  // The lane's queries, zero past CQ (dot scores take them scaled).
  [[unroll]] for (uint c = 0; c < KT; ++c)
    [[unroll]] for (uint e = 0; e < 4; ++e) {
      const uint ch = 4 * c + e;
      if (VEC4) {  // queries q .. q + 3 in one load (a vec4 past N repeats the last whole one)
        [[unroll]] for (uint q = 0; q < QB; q += 4) {
          const vec4 four = ch < CQ ? q4_at(batch, ch, min(i0 + q, p.N - 4)) : vec4(0.0);
          [[unroll]] for (uint k = 0; k < 4; ++k) qi[q + k][c][e] = four[k];
        }
      } else {  // queries past N repeat the last one
        [[unroll]] for (uint q = 0; q < QB; ++q) qi[q][c][e] = ch < CQ ? q_at(batch, ch, min(i0 + q, p.N - 1)) : 0.0;
      }
#ifdef ADDITIVE
      ui[c][e] = ch < CQ ? p.scale * u[p.base6 + ch] : 0.0;
#else
      [[unroll]] for (uint q = 0; q < QB; ++q) qi[q][c][e] *= p.scale;
#endif
    }

  const uint s0 = p.base2 + ((batch * (p.groups_per_batch / p.query_groups) + group) * 2) * p.N + i0;
  const uint o0 = p.base3 + (batch * p.cv + c0) * p.N + i0;
  float m[QB], l[QB];
  vec4 acc[QB][GT];
  [[unroll]] for (uint q = 0; q < QB; ++q) {
    m[q] = -3.402823e38;  // finite: the first step's rescale factor is 0, not NaN
    l[q] = 0.0;
    [[unroll]] for (uint c = 0; c < GT; ++c) acc[q][c] = vec4(0.0);
    if (!VEC4 && p.first_block == 0 && i0 + q < p.N) {
      m[q] = stats[s0 + q];
      l[q] = stats[s0 + q + p.N];
      [[unroll]] for (uint c = 0; c < CG; ++c)
        if (c < count) acc[q][c / 4][c % 4] = o[o0 + c * p.N + q];
    }
  }
  if (VEC4 && p.first_block == 0)
    [[unroll]] for (uint q = 0; q < QB; q += 4) {
      if (i0 + q >= p.N) break;  // then i0 + q + 3 < N too
      const vec4 top = stats4[(s0 + q) / 4], sum = stats4[(s0 + q + p.N) / 4];
      [[unroll]] for (uint k = 0; k < 4; ++k) m[q + k] = top[k], l[q + k] = sum[k];
      [[unroll]] for (uint c = 0; c < CG; ++c)
        if (c < count) {
          const vec4 v = o4[(o0 + c * p.N + q) / 4];
          [[unroll]] for (uint k = 0; k < 4; ++k) acc[q + k][c / 4][c % 4] = v[k];
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
    // One value texel of the KC keys at a time, each accumulator taking all KC in a row: it stays
    // in a register for KC updates (lavapipe keeps every lane's float in a vector register, and
    // QB * CG accumulators do not fit).
    [[unroll]] for (uint c = 0; c < GT; ++c) {
      vec4 value[KC];
      [[unroll]] for (uint k = 0; k < KC; ++k) value[k] = texelFetch(kv, t + int(k) * row + min(v + int(c), last));
      [[unroll]] for (uint q = 0; q < QB; ++q) {
        vec4 a = acc[q][c];
        [[unroll]] for (uint k = 0; k < KC; ++k) a = fma(vec4(w[q][k]), value[k], a);
        acc[q][c] = a;
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
  // Selects, not branches, for the residual (a branch here kept the accumulators from being
  // unrolled into registers: the kernel ran 2x slower). Without the residual, x is o itself, so the
  // index is always in range.
  const bool add = p.last_block != 0 && p.residual != 0;
  const float scale_out = p.last_block != 0 ? (add ? gamma[p.base5] : 1.0) : 1.0;
  const uint x0 = p.base4 + (batch * p.cv + c0) * p.N + i0;
  if (VEC4) {
    [[unroll]] for (uint q = 0; q < QB; q += 4) {
      if (i0 + q >= p.N) break;
      const vec4 top = vec4(m[q], m[q + 1], m[q + 2], m[q + 3]), sum = vec4(l[q], l[q + 1], l[q + 2], l[q + 3]);
      stats4[(s0 + q) / 4] = value4_t(top);
      stats4[(s0 + q + p.N) / 4] = value4_t(sum);
      const vec4 norm = p.last_block != 0 ? scale_out / sum : vec4(1.0);
      [[unroll]] for (uint c = 0; c < CG; ++c)
        if (c < count) {
          const uint g = c / 4, e = c % 4;
          const vec4 v = vec4(acc[q][g][e], acc[q + 1][g][e], acc[q + 2][g][e], acc[q + 3][g][e]);
          o4[(o0 + c * p.N + q) / 4] = value4_t(v * norm + (add ? x4[(x0 + c * p.N + q) / 4] : vec4(0.0)));
        }
    }
  } else {
    [[unroll]] for (uint q = 0; q < QB; ++q) {
      if (i0 + q >= p.N) break;
      stats[s0 + q] = value_t(m[q]);
      stats[s0 + q + p.N] = value_t(l[q]);
      const float norm = p.last_block != 0 ? scale_out / l[q] : 1.0;
      [[unroll]] for (uint c = 0; c < CG; ++c)
        if (c < count) o[o0 + c * p.N + q] = value_t(acc[q][c / 4][c % 4] * norm + (add ? x[x0 + c * p.N + q] : 0.0));
    }
  }
}
