// The body of attention_map.comp and attention_map_additive.comp.
// Rows of the attention map, A[b, i, j] = exp(s_ij - m_i) / l_i with s_ij = (scale q_i) . k_j
// (or, with ADDITIVE, s_ij = sum_c (scale u_c) tanh(q_ci + k_cj); binding 4 holds u),
// recomputed from the projections and the running max m_i and sum l_i the fused attention left:
// one pass over the map, no (N, N) score tensor, and the same softmax the block's output used.
// One dispatch writes a block of rows that fits one binding, so the map has no size limit but
// the device's memory. Each lane keeps one key in registers and walks ROWS rows, whose queries
// and statistics all lanes read at the same address.
// Bindings: 0 q (B, ., N) channel-major; 1 kv (B, N, Cq + Cv) position-major, keys first;
// 2 stats (B, groups, 2, N), group 0 read; 3 this dispatch's rows of A (B, N, N).
#include "common.glsl"
#include "exp.glsl"
#include "tanh.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint CQ = 1;     // query and key channels
layout(constant_id = 1) const uint ROWS = 16;  // rows per workgroup

layout(std430, binding = 0) readonly buffer QBuffer { value_t q[]; };
layout(std430, binding = 1) readonly buffer KVBuffer { value_t kv[]; };
layout(std430, binding = 2) readonly buffer StatsBuffer { value_t stats[]; };
layout(std430, binding = 3) writeonly buffer MapBuffer { value_t a[]; };
#ifdef ADDITIVE
layout(std430, binding = 4) readonly buffer UBuffer { value_t u[]; };  // (Cq): the additive weights
#endif

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint N;
  uint q_batch_stride;
  uint kv_row;            // Cq + Cv
  uint stats_batch_stride;
  uint row_first;         // first row of this dispatch
  uint rows;              // rows in this dispatch
  uint column_groups;     // workgroups along j
  float scale;
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch, r = gid % p.groups_per_batch;
  const uint j = (r % p.column_groups) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (j >= p.N) return;  // no barriers in this kernel
  const uint local0 = (r / p.column_groups) * ROWS;

  float k[CQ];
  const uint k0 = p.base1 + (batch * p.N + j) * p.kv_row;
  for (uint c = 0; c < CQ; ++c) k[c] = kv[k0 + c];
#ifdef ADDITIVE
  float ui[CQ];
  for (uint c = 0; c < CQ; ++c) ui[c] = p.scale * u[p.base4 + c];
#endif
  const uint q0 = p.base0 + batch * p.q_batch_stride;
  const uint s0 = p.base2 + batch * p.stats_batch_stride;
  const uint a0 = p.base3 + batch * p.N * p.N;
  for (uint t = 0; t < ROWS; ++t) {
    const uint local = local0 + t;
    if (local >= p.rows) break;
    const uint i = p.row_first + local;
    // The same products, in the same order, as the fused attention's score.
    float s = 0.0;
#ifdef ADDITIVE
    for (uint c = 0; c < CQ; ++c) s = fma(ui[c], tanh_stable(q[q0 + c * p.N + i] + k[c]), s);
#else
    for (uint c = 0; c < CQ; ++c) s = fma(p.scale * q[q0 + c * p.N + i], k[c], s);
#endif
    // s - max is at most 0 in exact arithmetic; the fused kernel's max came from another code path
    // (its own blocking and vector width), so at huge scores rounding could make it positive and
    // exp overflow. Capped, an entry stays within [0, 1/sum] as the softmax's does; NaN stays NaN.
    a[a0 + local * p.N + j] = value_t(exp_fast(min_nan(s - stats[s0 + i], 0.0)) / stats[s0 + p.N + i]);
  }
}
