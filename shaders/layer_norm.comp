#version 450
#extension GL_GOOGLE_include_directive : require
// Layer norm over rows of L elements `inner` apart: y = (x - mean) / sqrt(var + eps) * weight[j]
// + bias[j], var the biased variance, j the element's place in its row. torch.nn.LayerNorm over
// the last dims has contiguous rows (inner 1); ConvNeXt's channels-first LayerNorm2d normalises
// dim 1 of (B, C, ...), so a row is a position's C channels, `inner` (the positions) apart.
// Row r of a batch item starts at (r / inner) L inner + r % inner.
// Two passes in float32, both relative to the row's first element x0: mean - x0 = sum(x - x0) / L,
// then var = sum(((x - x0) - (mean - x0))^2) / L. x - x0 is exact for values close together, so a
// row far from 0 with a small spread (100 +- 0.01) keeps its precision, which it would lose with
// the mean rounded to float32 near 100. A row holding NaN or an infinity is NaN, as in PyTorch.
// GROUP (specialization constant 0): one workgroup per row, each lane taking every 64th element
// and the lanes' sums added pairwise in shared memory (long rows); else one lane per row.
// Bindings: 0 x, 1 weight, 2 bias (each (L); HAS_WEIGHT / HAS_BIAS say whether they are read), 3 y.
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const bool GROUP = false;
layout(constant_id = 1) const bool HAS_WEIGHT = false;
layout(constant_id = 2) const bool HAS_BIAS = false;
layout(std430, binding = 0) readonly buffer XBuffer { value_t x[]; };
layout(std430, binding = 1) readonly buffer WeightBuffer { value_t weight[]; };
layout(std430, binding = 2) readonly buffer BiasBuffer { value_t bias[]; };
layout(std430, binding = 3) writeonly buffer YBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint L;      // elements per row
  uint inner;  // elements from one element of a row to the next
  uint rows;   // rows per batch item
  float eps;
} p;

shared float partial[gl_WorkGroupSize.x];

// The sum of every lane's v (GROUP), for all lanes.
float group_sum(float v) {
  const uint lane = gl_LocalInvocationID.x;
  partial[lane] = v;
  barrier();
  for (uint half_size = gl_WorkGroupSize.x / 2; half_size > 0; half_size /= 2) {
    if (lane < half_size) partial[lane] += partial[lane + half_size];
    barrier();
  }
  const float total = partial[0];
  barrier();  // all have read it before the next sum overwrites it
  return total;
}

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;  // whole workgroups: no barrier is skipped by some lanes
  const uint batch = gid / p.groups_per_batch;
  uint row = gid % p.groups_per_batch, first = gl_LocalInvocationID.x, step = gl_WorkGroupSize.x;
  if (!GROUP) {
    row = row * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    first = 0;
    step = 1;
    if (row >= p.rows) return;
  }
  const uint start = batch * p.rows * p.L + (row / p.inner) * p.L * p.inner + row % p.inner;
  const uint in0 = p.base0 + start, out0 = p.base3 + start;
  const float x0 = x[in0];

  float s = 0.0;
  for (uint j = first; j < p.L; j += step) s += x[in0 + j * p.inner] - x0;
  if (GROUP) s = group_sum(s);
  const float shift = s / float(p.L);  // mean - x0
  float q = 0.0;
  for (uint j = first; j < p.L; j += step) {
    const float d = (x[in0 + j * p.inner] - x0) - shift;
    q += d * d;
  }
  if (GROUP) q = group_sum(q);
  const float scale = 1.0 / sqrt(q / float(p.L) + p.eps);
  // A NaN or infinity anywhere in the row makes the shifted mean NaN or infinite; written out, as
  // the compiler may fold (x - inf) * 0 to 0.
  const bool finite = !isnan(shift) && !isinf(shift);
  for (uint j = first; j < p.L; j += step) {
    float v = ((x[in0 + j * p.inner] - x0) - shift) * scale;
    if (HAS_WEIGHT) v *= weight[p.base1 + j];
    if (HAS_BIAS) v += bias[p.base2 + j];
    y[out0 + j * p.inner] = value_t(finite ? v : uintBitsToFloat(0x7fc00000u));
  }
}
