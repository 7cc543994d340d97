#version 450
#extension GL_GOOGLE_include_directive : require
// Cosine similarity's normalisation, as F.normalize: along one axis, entries [first, first + len)
// of every vector are divided by max(their L2 norm, 1e-12); all other entries are copied. A batch
// item is a (D1, D2) matrix; ALONG_ROWS 0: the vectors run down D1 (one per column, element
// stride D2), 1: along D2 (one per row). Each invocation recomputes its vector's norm: len is a
// handful of query channels, cheaper than a second pass. Bindings: 0 x, 1 y.
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint ALONG_ROWS = 0;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint d1, d2;  // a batch item is d1 x d2
  uint first, len;
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint e = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (e >= p.d1 * p.d2) return;
  const uint r = e / p.d2, c = e % p.d2, item = batch * p.d1 * p.d2;
  const uint along = ALONG_ROWS != 0 ? c : r;
  const float v = x[p.base0 + item + e];
  if (along < p.first || along >= p.first + p.len) {
    y[p.base1 + item + e] = value_t(v);
    return;
  }
  const uint start = ALONG_ROWS != 0 ? r * p.d2 + p.first : p.first * p.d2 + c;
  const uint stride = ALONG_ROWS != 0 ? 1 : p.d2;
  float ss = 0.0;
  for (uint t = 0; t < p.len; ++t) {
    const float u = x[p.base0 + item + start + t * stride];
    ss = fma(u, u, ss);
  }
  y[p.base1 + item + e] = value_t(v / max_nan(sqrt(ss), 1e-12));  // a NaN norm stays NaN, as clamp_min
}
