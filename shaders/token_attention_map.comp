#version 450
#extension GL_GOOGLE_include_directive : require
// The attention map P[b, t, i, j] = e^(s_ij - max_i) / sum_i of token_attention.comp, recomputed
// from the same q, k and bias and that kernel's per-query max and sum (binding 5): the (Nq, Nk)
// scores exist only where a map is asked for. One invocation per entry, consecutive keys in
// consecutive lanes, so the stores of a workgroup are contiguous.
// Bindings: 0 q, 1 k, 4 bias, 5 stats (token_attention.glsl), 3 the map (B, T, Nq, Nk).
#include "exp.glsl"
#include "token_attention.glsl"

layout(std430, binding = 3) writeonly buffer MapBuffer { value_t map[]; };

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint e = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  const uint per_head = p.nq * p.nk;
  if (e >= p.heads * per_head) return;
  const uint t = e / per_head, i = (e % per_head) / p.nk, j = e % p.nk;
  vec4 qi[KT];
  load_query(batch, t, i, qi);
  const float s = score(qi, key_start(batch, t) + j * p.k_row) + (BIAS ? bias[bias_start(batch, t, i) + j * p.bias_col] : 0.0);
  const uint s0 = p.base5 + ((batch * p.heads + t) * 2) * p.nq + i;
  map[p.base3 + batch * p.heads * per_head + e] = value_t(exp_fast(s - stats[s0]) / stats[s0 + p.nq]);
}
