#version 450
#extension GL_GOOGLE_include_directive : require
// Mean over the rows of each batch item's (R, L) matrix: y[b, j] = (1/R) sum_i x[b, i, j], the
// attention each position receives when x is an attention map. One thread per column; a matrix
// too large for one binding is read in blocks of rows, one dispatch each, every block after the
// first adding to what the earlier ones wrote.
// Bindings: 0 in (B, R, L), bound from the block's first row; 1 out (B, L).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) buffer OutBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint columns;      // L
  uint item_stride;  // R * L
  uint rows;         // rows in this block
  uint all_rows;     // R, the divisor
  uint accumulate;   // 0 for the first block
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint j = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (j >= p.columns) return;
  const uint start = p.base0 + batch * p.item_stride + j;
  float sum = 0.0;
  for (uint i = 0; i < p.rows; ++i) sum += x[start + i * p.columns];
  const uint at = p.base1 + batch * p.columns + j;
  const float mean = sum / float(p.all_rows);
  y[at] = value_t(p.accumulate != 0u ? y[at] + mean : mean);
}
