// Numerically stable softmax over rows of length L: out = exp(x - max) / sum exp(x - max); with
// LOG_OUTPUT, log_softmax: out = x - max - log(sum exp(x - max)), exact where softmax underflows.
// As torch.softmax, a row holding NaN or +inf, or of -inf alone, is NaN (x - max is NaN there).
// A running (max, sum) pair is kept per row (online softmax), then a second pass writes. Shared by
// softmax.comp (one workgroup per row) and softmax_rows.comp (one row per invocation, for short
// rows). Bindings: 0 in (B, rows, L), 1 out.
#include "common.glsl"

layout(constant_id = 0) const uint LOG_OUTPUT = 0;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint L;
  uint rows;  // per batch item
} p;

// Merge two partial (max, sum-of-exp) pairs; a pair with sum 0 holds no element.
void merge(inout float m, inout float s, float m2, float s2) {
  if (s2 == 0.0) return;
  if (s == 0.0) { m = m2; s = s2; return; }
  const float mx = max_nan(m, m2);  // a NaN makes the row NaN, as torch.softmax
  s = s * exp(m - mx) + s2 * exp(m2 - mx);
  m = mx;
}

// Elements first, first + step, ... of the row at in0 / out0, given its max and sum.
void write_row(uint in0, uint out0, float row_max, float sum, uint first, uint step) {
  if (LOG_OUTPUT != 0) {
    const float log_sum = row_max + log(sum);
    for (uint j = first; j < p.L; j += step) y[out0 + j] = value_t(x[in0 + j] - log_sum);
    return;
  }
  const float inv_sum = 1.0 / sum;
  for (uint j = first; j < p.L; j += step) y[out0 + j] = value_t(exp(x[in0 + j] - row_max) * inv_sum);
}
