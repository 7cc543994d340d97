#version 450
#extension GL_GOOGLE_include_directive : require
// Numerically stable softmax over rows of length L: out = exp(x - max) / sum exp(x - max); with
// LOG_OUTPUT, log_softmax: out = x - max - log(sum exp(x - max)), exact where softmax underflows.
// One workgroup per row, any L: each thread keeps a running (max, sum) over its strided share of
// the row (online softmax), the pairs are merged in shared memory, then a second pass writes.
// Bindings: 0 in, 1 out.
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint LOG_OUTPUT = 0;
layout(std430, binding = 0) readonly buffer InBuffer { float x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { float y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint L;
} p;

const uint THREADS = gl_WorkGroupSize.x;
shared float part_max[THREADS];
shared float part_sum[THREADS];

// Merge two partial (max, sum-of-exp) pairs; a pair with sum 0 holds no element.
void merge(inout float m, inout float s, float m2, float s2) {
  if (s2 == 0.0) return;
  if (s == 0.0) { m = m2; s = s2; return; }
  const float mx = max(m, m2);
  s = s * exp(m - mx) + s2 * exp(m2 - mx);
  m = mx;
}

void main() {
  const uint row = linear_group_id();
  if (row >= p.groups) return;
  const uint t = gl_LocalInvocationID.x;
  const uint in0 = p.base0 + row * p.L;
  const uint out0 = p.base1 + row * p.L;

  float m = 0.0, s = 0.0;
  for (uint j = t; j < p.L; j += THREADS) merge(m, s, x[in0 + j], 1.0);
  part_max[t] = m;
  part_sum[t] = s;
  barrier();
  for (uint half_ = THREADS / 2; half_ > 0; half_ /= 2) {
    if (t < half_) {
      float mm = part_max[t], ss = part_sum[t];
      merge(mm, ss, part_max[t + half_], part_sum[t + half_]);
      part_max[t] = mm;
      part_sum[t] = ss;
    }
    barrier();
  }
  const float row_max = part_max[0];
  if (LOG_OUTPUT != 0) {
    const float log_sum = row_max + log(part_sum[0]);
    for (uint j = t; j < p.L; j += THREADS) y[out0 + j] = x[in0 + j] - log_sum;
    return;
  }
  const float inv_sum = 1.0 / part_sum[0];
  for (uint j = t; j < p.L; j += THREADS) y[out0 + j] = exp(x[in0 + j] - row_max) * inv_sum;
}
