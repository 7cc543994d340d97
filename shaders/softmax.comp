#version 450
#extension GL_GOOGLE_include_directive : require
// Softmax over long rows (see softmax.glsl), one workgroup per row, any L: each thread keeps a
// running (max, sum) over its strided share of the row, the pairs are merged in shared memory.
#include "softmax.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

const uint THREADS = gl_WorkGroupSize.x;
shared float part_max[THREADS];
shared float part_sum[THREADS];

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
  write_row(in0, out0, part_max[0], part_sum[0], t, THREADS);
}
