#version 450
#extension GL_GOOGLE_include_directive : require
// Softmax over short rows (see softmax.glsl), one row per invocation: a row of the classifier's
// attention (L = 196) would leave most of a 256-thread workgroup idle.
#include "softmax.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint row = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (row >= p.rows) return;
  const uint in0 = p.base0 + (batch * p.rows + row) * p.L, out0 = p.base1 + (batch * p.rows + row) * p.L;
  float m = 0.0, s = 0.0;
  for (uint j = 0; j < p.L; ++j) merge(m, s, x[in0 + j], 1.0);
  write_row(in0, out0, m, s, 0, 1);
}
