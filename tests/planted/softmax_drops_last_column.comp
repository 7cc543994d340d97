#version 450
#extension GL_GOOGLE_include_directive : require
// A planted bug for the conformance test: a softmax with the engine's bindings and push
// constants that never writes the last column of each row. Correct everywhere else, under the
// grid of either softmax kernel (a workgroup per row, or 64 rows per workgroup for short rows).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer InBuffer { float x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { float y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint L;
  uint rows;  // per batch item
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch, r = gid % p.groups_per_batch;
  const bool row_per_group = p.groups_per_batch == p.rows;
  const uint row = row_per_group ? r : r * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (row >= p.rows || (row_per_group && gl_LocalInvocationID.x != 0)) return;  // one thread per row: slow, simple
  const uint in0 = p.base0 + (batch * p.rows + row) * p.L, out0 = p.base1 + (batch * p.rows + row) * p.L;
  float top = x[in0];
  for (uint j = 1; j < p.L; ++j) top = max(top, x[in0 + j]);
  float sum = 0.0;
  for (uint j = 0; j < p.L; ++j) sum += exp(x[in0 + j] - top);
  for (uint j = 0; j + 1 < p.L; ++j) y[out0 + j] = exp(x[in0 + j] - top) / sum;  // the bug: j + 1 < L
}
