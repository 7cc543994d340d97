#version 450
#extension GL_GOOGLE_include_directive : require
// Sum, mean or max over a set of dimensions of each batch item (OP, specialization constant 0).
// The host splits the item's dimensions into kept and reduced ones, each merged into at most
// three runs: output element o sits at the kept coordinates of o, and reads the input at
// sum kept_c kept_stride + sum red_c red_stride over every reduced coordinate.
// Sums are compensated (Neumaier's variant of Kahan's: the rounding error of every addition is
// kept in a second float), so a sum of 50,000 elements is about as accurate as its last rounding;
// a NaN or infinity in the plain sum is the result, as in PyTorch. max keeps NaN (max_nan).
// GROUP (specialization constant 1): one workgroup per output, its lanes each taking every
// 64th reduced element and then combining their partial results pairwise in shared memory (long
// reductions, few outputs); else one thread per output walking its reduced elements in order.
// Bindings: 0 in, 1 out.
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint OP = 0;  // 0 sum, 1 mean, 2 amax
layout(constant_id = 1) const bool GROUP = false;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint count;     // outputs per batch item
  uint in_item;   // elements per batch item of in (out)
  uint out_item;
  uint reduced;   // elements reduced into each output
  uint kept_size[3];
  uint kept_stride[3];
  uint red_size[3];
  uint red_stride[3];
} p;

// A running sum and its compensation (the sum of every addition's rounding error); for max the
// running max, the second component unused.
vec2 start() { return vec2(OP == 2 ? uintBitsToFloat(0xff800000u) : 0.0, 0.0); }  // -inf for max

vec2 combine(vec2 acc, float v, float v_error) {
  if (OP == 2) return vec2(max_nan(acc.x, v), 0.0);
  // precise: the error terms are exact only without reassociation or fused multiply-adds.
  precise float t = acc.x + v;
  precise float rounding = abs(acc.x) >= abs(v) ? (acc.x - t) + v : (v - t) + acc.x;
  precise float e = acc.y + v_error + rounding;
  return vec2(t, e);
}

float result(vec2 acc) {
  if (OP == 2) return acc.x;
  // Once the plain sum is infinite or NaN it stays so, and the compensation holds garbage.
  const float s = isinf(acc.x) || isnan(acc.x) ? acc.x : acc.x + acc.y;
  return OP == 1 ? s / float(p.reduced) : s;
}

// Offset of kept element o from its batch item's start.
uint kept_offset(uint o) {
  uint at = 0;
  for (uint d = 3; d-- > 0;) {
    at += (o % p.kept_size[d]) * p.kept_stride[d];
    o /= p.kept_size[d];
  }
  return at;
}

shared vec2 partial[gl_WorkGroupSize.x];

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  if (GROUP) {
    const uint o = gid % p.groups_per_batch, lane = gl_LocalInvocationID.x;
    const uint from = p.base0 + batch * p.in_item + kept_offset(o);
    vec2 acc = start();
    for (uint r = lane; r < p.reduced; r += gl_WorkGroupSize.x) {
      const uint r2 = r % p.red_size[2], r01 = r / p.red_size[2];
      const uint r1 = r01 % p.red_size[1], r0 = r01 / p.red_size[1];
      acc = combine(acc, x[from + r0 * p.red_stride[0] + r1 * p.red_stride[1] + r2 * p.red_stride[2]], 0.0);
    }
    partial[lane] = acc;
    barrier();
    for (uint half_size = gl_WorkGroupSize.x / 2; half_size > 0; half_size /= 2) {
      if (lane < half_size) {
        const vec2 other = partial[lane + half_size];
        partial[lane] = combine(partial[lane], other.x, other.y);
      }
      barrier();
    }
    if (lane == 0) y[p.base1 + batch * p.out_item + o] = value_t(result(partial[0]));
  } else {
    const uint o = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (o >= p.count) return;
    const uint from = p.base0 + batch * p.in_item + kept_offset(o);
    vec2 acc = start();
    for (uint r0 = 0; r0 < p.red_size[0]; ++r0)
      for (uint r1 = 0; r1 < p.red_size[1]; ++r1)
        for (uint r2 = 0; r2 < p.red_size[2]; ++r2)
          acc = combine(acc, x[from + r0 * p.red_stride[0] + r1 * p.red_stride[1] + r2 * p.red_stride[2]], 0.0);
    y[p.base1 + batch * p.out_item + o] = value_t(result(acc));
  }
}
