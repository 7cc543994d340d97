// The body of fused_attention.comp and fused_attention_additive.comp.
// Fused self-attention over one block of keys, never storing the N x N map (the CPU-driver
// profile). One query per invocation, CG value channels per invocation (the channel groups split
// the output so that what a lane holds stays in registers; each group recomputes the cheap q.k).
// Online softmax: the running row max and sum live in `stats` and the unnormalised output in `o`
// between key blocks; the last block divides by the sum. The block's keys and values come through
// a uniform buffer: every lane reads the same key at the same time, which a driver can serve with
// one scalar load (lavapipe 22.3 still gathers per lane, measured, but faster than from storage).
// Bindings: 0 q: channels of a (B, *, N) tensor; 1 kv: rows j = [k_j (CQ) | v_j (Cv)] of the block
// (uniform); 2 stats (B, groups, 2, N); 3 o (B, Cv, N).

#include "common.glsl"
#include "exp.glsl"
#include "tanh.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint CQ = 1;        // query and key channels
layout(constant_id = 1) const uint CG = 32;       // value channels per invocation
layout(constant_id = 2) const uint KV_VEC4S = 1;  // the bound uniform range, in vec4s

layout(std430, binding = 0) readonly buffer QBuffer { float q[]; };
layout(std140, binding = 1) uniform KVBlock { vec4 kv[KV_VEC4S]; };
layout(std430, binding = 2) buffer StatsBuffer { float stats[]; };
layout(std430, binding = 3) buffer OBuffer { float o[]; };
#ifdef ADDITIVE
layout(std430, binding = 4) readonly buffer UBuffer { float u[]; };  // (Cq): the additive weights
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
} p;

float kv_at(uint e) { return kv[e >> 2][e & 3]; }

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch, r = gid % p.groups_per_batch;
  const uint group = r / p.query_groups;
  const uint i = (r % p.query_groups) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.N) return;  // no barriers in this kernel, so lanes may leave early
  const uint c0 = group * CG, count = min(CG, p.cv - c0), last = count - 1;

  // dot: qi holds scale * q; additive: qi holds q and ui scale * u.
  float qi[CQ];
#ifdef ADDITIVE
  float ui[CQ];
  for (uint c = 0; c < CQ; ++c) {
    qi[c] = q[p.base0 + batch * p.q_batch_stride + c * p.N + i];
    ui[c] = p.scale * u[p.base4 + c];
  }
#else
  for (uint c = 0; c < CQ; ++c) qi[c] = p.scale * q[p.base0 + batch * p.q_batch_stride + c * p.N + i];
#endif

  const uint s0 = p.base2 + ((batch * (p.groups_per_batch / p.query_groups) + group) * 2) * p.N + i;
  const uint o0 = p.base3 + (batch * p.cv + c0) * p.N + i;
  float m = -3.402823e38, l = 0.0;  // finite: exp_fast(m - s) is exactly 0 for the first key
  float acc[CG];
  for (uint c = 0; c < CG; ++c) acc[c] = 0.0;
  if (p.first_block == 0) {
    m = stats[s0];
    l = stats[s0 + p.N];
    for (uint c = 0; c < CG; ++c)
      if (c < count) acc[c] = o[o0 + c * p.N];
  }

  const uint row = CQ + p.cv;
  uint e = p.base1 + batch * p.kv_batch_stride;
  for (uint j = 0; j < p.keys; ++j, e += row) {
    float s = 0.0;
#ifdef ADDITIVE
    for (uint c = 0; c < CQ; ++c) s = fma(ui[c], tanh_stable(qi[c] + kv_at(e + c)), s);
#else
    for (uint c = 0; c < CQ; ++c) s = fma(qi[c], kv_at(e + c), s);
#endif
    if (s > m) {  // a new row max: rescale what was summed so far
      const float alpha = exp_fast(m - s);
      l *= alpha;
      for (uint c = 0; c < CG; ++c) acc[c] *= alpha;
      m = s;
    }
    const float w = exp_fast(s - m);
    l += w;
    // A partial last group reads its last channel again for the lanes past it (never written
    // back): lavapipe runs both sides of a branch that lanes may take, so no per-channel test.
    const uint v = e + CQ + c0;
    for (uint c = 0; c < CG; ++c) acc[c] = fma(w, kv_at(v + min(c, last)), acc[c]);
  }

  // The running max and sum stay behind after the last block too: the map kernel reads them.
  stats[s0] = m;
  stats[s0 + p.N] = l;
  if (p.last_block != 0) {
    const float inv = 1.0 / l;
    for (uint c = 0; c < CG; ++c)
      if (c < count) o[o0 + c * p.N] = acc[c] * inv;
  } else {
    for (uint c = 0; c < CG; ++c)
      if (c < count) o[o0 + c * p.N] = acc[c];
  }
}
