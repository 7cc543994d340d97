#version 450
#extension GL_GOOGLE_include_directive : require
// y = a OP b elementwise with PyTorch's broadcasting (add, sub, mul, div, pow, minimum, maximum:
// specialization constant 0). The host aligns both operands to y's rank; an operand's stride is 0 along a dimension it
// broadcasts. Batch items come from the header (an operand broadcast over the batch has batch
// stride 0). SAME_LAYOUT: both operands are laid out as y within a batch item, so no index is
// taken apart (a residual sum); otherwise the element index is split into coordinates, which
// costs integer divisions. Bindings: 0 a, 1 b, 2 y.
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint OP = 0;  // 0 add, 1 sub, 2 mul, 3 div, 4 pow, 5 minimum, 6 maximum
layout(constant_id = 1) const bool SAME_LAYOUT = false;
// Elements a thread computes, consecutive: its first index is taken apart once, then it steps
// along the last dimension (the cpu profile takes 16, where a division is a loop over the lanes).
layout(constant_id = 2) const uint PER_LANE = 1;
layout(std430, binding = 0) readonly buffer ABuffer { value_t a[]; };
layout(std430, binding = 1) readonly buffer BBuffer { value_t b[]; };
layout(std430, binding = 2) writeonly buffer YBuffer { value_t y[]; };

const uint kMaxDims = 6;  // dimensions after the batch
layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint count;  // elements of y per batch item
  uint dims;   // dimensions after the batch
  uint a_batch, b_batch;  // elements from one batch item of a (b) to the next: 0 when broadcast
  uint size[kMaxDims];
  uint a_stride[kMaxDims];
  uint b_stride[kMaxDims];
} p;

// u^v as C's powf and numpy's float32 power give it. GLSL's pow() is undefined for u < 0 and for
// 0^v with v <= 0 (lavapipe takes exp2(v log2 u)), so it only ever sees a finite |u| > 0 and a
// finite v; the sign comes from v's parity, and 0, infinities and NaN follow C's table.
float power(float u, float v) {
  if (v == 0.0 || u == 1.0) return 1.0;  // NaN^0 and 1^NaN too
  if (isnan(u) || isnan(v)) return u + v;
  const float a = abs(u), inf = uintBitsToFloat(0x7f800000u);
  const bool whole = floor(v) == v;  // infinities count as whole and even
  if (u < 0.0 && !isinf(u) && !whole) return uintBitsToFloat(0x7fc00000u);  // NaN: no real root
  float m;
  if (isinf(v)) m = a == 1.0 ? 1.0 : (a > 1.0) == (v > 0.0) ? inf : 0.0;
  else if (a == 0.0) m = v > 0.0 ? 0.0 : inf;
  else if (isinf(a)) m = v > 0.0 ? inf : 0.0;
  else if (v == 2.0) m = a * a;  // exact, as numpy: a variance's (x - mean)^2
  else if (v == 0.5) m = sqrt(a);
  else m = pow(a, v);
  const bool odd = whole && !isinf(v) && mod(abs(v), 2.0) == 1.0;
  return odd && (floatBitsToUint(u) >> 31) != 0 ? -m : m;  // the sign bit: (-0)^-1 is -inf
}

float combine(float u, float v) {
  if (OP == 0) return u + v;
  if (OP == 1) return u - v;
  if (OP == 2) return u * v;
  if (OP == 3) return u / v;
  if (OP == 4) return power(u, v);
  if (isnan(u) || isnan(v)) return u + v;  // minimum and maximum keep a NaN of either
  return OP == 5 ? min(u, v) : max(u, v);
}

// Element i of y: its offsets in a and b within their batch items, and its last coordinate.
void locate(uint i, out uint ia, out uint ib, out uint inner) {
  ia = 0;
  ib = 0;
  inner = i % p.size[p.dims - 1];
  for (uint d = p.dims; d-- > 0;) {  // the last dimension varies fastest
    const uint coordinate = i % p.size[d];
    i /= p.size[d];
    ia += coordinate * p.a_stride[d];
    ib += coordinate * p.b_stride[d];
  }
}

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint first = ((gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * PER_LANE;
  if (first >= p.count) return;
  const uint end = min(first + PER_LANE, p.count);
  const uint a0 = p.base0 + batch * p.a_batch, b0 = p.base1 + batch * p.b_batch, y0 = p.base2 + batch * p.count;
  if (SAME_LAYOUT) {
    for (uint i = first; i < end; ++i) y[y0 + i] = value_t(combine(a[a0 + i], b[b0 + i]));
    return;
  }
  const uint last = p.dims - 1;
  uint ia, ib, inner;
  locate(first, ia, ib, inner);
  for (uint i = first; i < end; ++i) {
    y[y0 + i] = value_t(combine(a[a0 + ia], b[b0 + ib]));
    if (++inner < p.size[last]) {
      ia += p.a_stride[last];
      ib += p.b_stride[last];
    } else {
      locate(i + 1, ia, ib, inner);
    }
  }
}
