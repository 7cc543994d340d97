// What token_attention.comp and token_attention_map.comp share: their bindings, push constants
// and the score of a query against a key.
// Tensors are (B, T, N, C) in effect, T the heads (every dimension between the batch and the
// rows, flattened): element (t, i, c) of a batch item sits at t * head + i * row + c, so the same
// kernel reads q, k and v contiguous or as slices of one (B, N, 3, h, d) projection. A batch
// item's stride is the larger of T * head and N * row, which is right for both orders.
// The score of query i and key j is scale * q_i . k_j + bias[i, j]; the bias (an additive mask,
// Swin's relative position bias) broadcasts: a stride of 0 repeats it along that dimension, and
// its heads are split into outer x inner (T = outer * inner) so that a (h, N, N) bias repeats over
// Swin's windows.
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint D = 1;           // query and key channels
layout(constant_id = 1) const uint CG = 32;         // value channels per invocation, a multiple of 4
layout(constant_id = 2) const uint QB = 4;          // queries per invocation
layout(constant_id = 3) const bool TEXEL4 = false;  // k and v bound as RGBA32F (every stride a multiple of 4)
layout(constant_id = 4) const bool BIAS = false;    // binding 4 holds a bias
layout(constant_id = 5) const bool STATS = false;   // binding 5 takes each query's score max and sum
const uint KT = (D + 3) / 4;                        // key texels per row

layout(std430, binding = 0) readonly buffer QBuffer { value_t q[]; };
layout(binding = 1) uniform samplerBuffer k;
layout(binding = 2) uniform samplerBuffer v;
layout(std430, binding = 4) readonly buffer BiasBuffer { value_t bias[]; };
layout(std430, binding = 5) buffer StatsBuffer { value_t stats[]; };  // (B, T, 2, Nq): max, then sum

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint nq, nk, heads, inner;  // queries, keys, T, and the bias's inner head count (T = outer * inner)
  uint q_head, q_row, k_head, k_row, v_head, v_row, o_head, o_row;
  uint bias_batch, bias_outer, bias_inner, bias_row, bias_col;
  uint cv;       // value channels
  uint qblocks;  // invocations along one head's queries: ceil(nq / QB)
  float scale;
} p;

uint item_stride(uint head, uint row, uint rows) { return max(p.heads * head, rows * row); }

// Texel c of the key row starting at element `at`, its lanes past D zero: a lane past D holds the
// next row's value or a neighbour's, and 0 * NaN would reach the score.
vec4 key_texel(uint at, uint c) {
  vec4 t;
  if (TEXEL4) {
    t = texelFetch(k, int(at / 4 + c));
  } else {
    [[unroll]] for (uint e = 0; e < 4; ++e) t[e] = 4 * c + e < D ? texelFetch(k, int(at + 4 * c + e)).x : 0.0;
  }
  const uint valid = c + 1 < KT ? 4 : D - 4 * c;  // constant once the loops are unrolled
  return vec4(t.x, valid > 1 ? t.y : 0.0, valid > 2 ? t.z : 0.0, valid > 3 ? t.w : 0.0);
}

// scale * q (zero past D) for query i of head t of batch item `batch`.
void load_query(uint batch, uint t, uint i, out vec4 qi[KT]) {
  const uint at = p.base0 + batch * item_stride(p.q_head, p.q_row, p.nq) + t * p.q_head + i * p.q_row;
  [[unroll]] for (uint c = 0; c < KT; ++c)
    [[unroll]] for (uint e = 0; e < 4; ++e) qi[c][e] = 4 * c + e < D ? p.scale * q[at + 4 * c + e] : 0.0;
}

// Where the key rows of head t of batch item `batch` start, in elements of k's binding.
uint key_start(uint batch, uint t) { return p.base1 + batch * item_stride(p.k_head, p.k_row, p.nk) + t * p.k_head; }

// Where query i's bias row starts (its key j is + j * bias_col).
uint bias_start(uint batch, uint t, uint i) {
  return p.base4 + batch * p.bias_batch + (t / p.inner) * p.bias_outer + (t % p.inner) * p.bias_inner + i * p.bias_row;
}

float score(vec4 qi[KT], uint key_at) {
  float s = 0.0;
  [[unroll]] for (uint c = 0; c < KT; ++c) s += dot(qi[c], key_texel(key_at, c));
  return s;
}
