#version 450
#extension GL_GOOGLE_include_directive : require
// softmax(scale q k^T + bias) v over tokens in one pass over the keys, never storing the (Nq, Nk)
// scores: an online softmax keeps each query's running max and sum and rescales the output when
// the max moves, KC keys at a time (one rescale per step, not per key). Each invocation takes QB
// consecutive queries of one head and CG value channels: every key and value fetched serves QB
// queries; the channel groups split the output and each recomputes the cheap scores.
// NaN and infinities come out as in PyTorch: a NaN score makes its row NaN, a row whose scores are
// all -inf (a fully masked query) has a sum of 0 and so NaN, a -inf among finite scores weighs 0.
// Bindings: 0 q, 1 k, 2 v (token_attention.glsl), 3 o, 4 bias, 5 stats.
#include "exp.glsl"
#include "token_attention.glsl"

layout(std430, binding = 3) writeonly buffer OBuffer { value_t o[]; };
const uint GT = CG / 4;  // value texels per invocation
const uint KC = 8;       // keys per step

// Value texel c of this group from the row starting at element `at`, the channel group starting
// at c0: as vec4 texels the last ones repeat the row's last texel (never written back).
vec4 value_texel(uint at, uint c0, uint c) {
  if (TEXEL4) return texelFetch(v, int(at / 4 + min(c0 / 4 + c, (p.cv + 3) / 4 - 1)));
  vec4 t;
  [[unroll]] for (uint e = 0; e < 4; ++e) t[e] = texelFetch(v, int(at + min(c0 + 4 * c + e, p.cv - 1))).x;
  return t;
}

vec4 qi[QB][KT];
vec4 acc[QB][GT];

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;  // no barriers in this kernel, so lanes may leave early
  const uint batch = gid / p.groups_per_batch, r = gid % p.groups_per_batch;
  const uint channel_groups = (p.cv + CG - 1) / CG, group = r % channel_groups;
  const uint lane = (r / channel_groups) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (lane >= p.heads * p.qblocks) return;
  const uint t = lane / p.qblocks, i0 = (lane % p.qblocks) * QB;
  const uint c0 = group * CG, count = min(CG, p.cv - c0);

  uint bias_at[QB];
  float m[QB], l[QB];
  [[unroll]] for (uint q = 0; q < QB; ++q) {  // queries past nq repeat the last one and are not written
    const uint i = min(i0 + q, p.nq - 1);
    load_query(batch, t, i, qi[q]);
    bias_at[q] = BIAS ? bias_start(batch, t, i) : 0;
    m[q] = -3.402823e38;  // finite: the first step's rescale factor is 0, not NaN
    l[q] = 0.0;
    [[unroll]] for (uint c = 0; c < GT; ++c) acc[q][c] = vec4(0.0);
  }

  const uint key0 = key_start(batch, t);
  const uint value0 = p.base2 + batch * item_stride(p.v_head, p.v_row, p.nk) + t * p.v_head;
  uint j = 0;
  for (; j + KC <= p.nk; j += KC) {
    float w[QB][KC];
    [[unroll]] for (uint q = 0; q < QB; ++q) {
      float top = m[q];
      [[unroll]] for (uint kk = 0; kk < KC; ++kk) {
        w[q][kk] = score(qi[q], key0 + (j + kk) * p.k_row) + (BIAS ? bias[bias_at[q] + (j + kk) * p.bias_col] : 0.0);
        top = max(top, w[q][kk]);
      }
      const float alpha = exp_fast(m[q] - top);  // 1 when the max did not move
      m[q] = top;
      l[q] *= alpha;
      [[unroll]] for (uint c = 0; c < GT; ++c) acc[q][c] *= alpha;
      [[unroll]] for (uint kk = 0; kk < KC; ++kk) {
        w[q][kk] = exp_fast(w[q][kk] - top);
        l[q] += w[q][kk];
      }
    }
    // One value texel of the KC keys at a time, each accumulator taking all KC in a row.
    [[unroll]] for (uint c = 0; c < GT; ++c) {
      vec4 value[KC];
      [[unroll]] for (uint kk = 0; kk < KC; ++kk) value[kk] = value_texel(value0 + (j + kk) * p.v_row, c0, c);
      [[unroll]] for (uint q = 0; q < QB; ++q) {
        vec4 a = acc[q][c];
        [[unroll]] for (uint kk = 0; kk < KC; ++kk) a = fma(vec4(w[q][kk]), value[kk], a);
        acc[q][c] = a;
      }
    }
  }
  for (; j < p.nk; ++j) {  // the last few keys, one at a time
    [[unroll]] for (uint q = 0; q < QB; ++q) {
      const float s = score(qi[q], key0 + j * p.k_row) + (BIAS ? bias[bias_at[q] + j * p.bias_col] : 0.0);
      const float top = max(m[q], s), alpha = exp_fast(m[q] - top);
      m[q] = top;
      const float w = exp_fast(s - top);
      l[q] = fma(l[q], alpha, w);
      [[unroll]] for (uint c = 0; c < GT; ++c)
        acc[q][c] = fma(vec4(w), value_texel(value0 + j * p.v_row, c0, c), acc[q][c] * alpha);
    }
  }

  const uint o0 = p.base3 + batch * item_stride(p.o_head, p.o_row, p.nq) + t * p.o_head + c0;
  const uint s0 = p.base5 + ((batch * p.heads + t) * 2) * p.nq;
  [[unroll]] for (uint q = 0; q < QB; ++q) {
    const uint i = i0 + q;
    if (i >= p.nq) break;
    [[unroll]] for (uint c = 0; c < CG; ++c)
      if (c < count) o[o0 + i * p.o_row + c] = value_t(acc[q][c / 4][c % 4] / l[q]);
    if (STATS && group == 0) {  // every group has the same max and sum
      stats[s0 + i] = value_t(m[q]);
      stats[s0 + p.nq + i] = value_t(l[q]);
    }
  }
}
