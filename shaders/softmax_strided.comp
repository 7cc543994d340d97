#version 450
#extension GL_GOOGLE_include_directive : require
// Softmax over a dimension other than the last (see softmax.glsl): rows of L elements INNER apart
// (the product of the dimensions after it), one row per invocation. Row r of a batch item
// starts at (r / INNER) * L * INNER + r % INNER, so neighbouring invocations read neighbouring
// elements. INNER is a specialization constant: its division and remainder become multiplies.
#include "softmax.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 1) const uint INNER = 1;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint row = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (row >= p.rows) return;
  const uint first = batch * p.rows * p.L + (row / INNER) * p.L * INNER + row % INNER;
  const uint in0 = p.base0 + first, out0 = p.base1 + first;
  float m = 0.0, s = 0.0;
  for (uint j = 0; j < p.L; ++j) merge(m, s, x[in0 + j * INNER], 1.0);
  if (LOG_OUTPUT != 0) {
    const float log_sum = m + log(s);
    for (uint j = 0; j < p.L; ++j) y[out0 + j * INNER] = value_t(x[in0 + j * INNER] - log_sum);
  } else {
    const float inv_sum = 1.0 / s;
    for (uint j = 0; j < p.L; ++j) y[out0 + j * INNER] = value_t(exp(x[in0 + j * INNER] - m) * inv_sum);
  }
}
