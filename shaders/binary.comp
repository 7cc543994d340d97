#version 450
#extension GL_GOOGLE_include_directive : require
// y = a OP b elementwise with PyTorch's broadcasting (add, sub, mul, div: specialization constant
// 0). The host aligns both operands to y's rank; an operand's stride is 0 along a dimension it
// broadcasts. Batch items come from the header (an operand broadcast over the batch has batch
// stride 0). SAME_LAYOUT: both operands are laid out as y within a batch item, so no index is
// taken apart (a residual sum); otherwise the element index is split into coordinates, which
// costs integer divisions. Bindings: 0 a, 1 b, 2 y.
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint OP = 0;  // 0 add, 1 sub, 2 mul, 3 div
layout(constant_id = 1) const bool SAME_LAYOUT = false;
layout(std430, binding = 0) readonly buffer ABuffer { float a[]; };
layout(std430, binding = 1) readonly buffer BBuffer { float b[]; };
layout(std430, binding = 2) writeonly buffer YBuffer { float y[]; };

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

float combine(float u, float v) {
  if (OP == 0) return u + v;
  if (OP == 1) return u - v;
  if (OP == 2) return u * v;
  return u / v;
}

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint i = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.count) return;
  uint ia = i, ib = i;
  if (!SAME_LAYOUT) {
    ia = 0;
    ib = 0;
    uint rest = i;
    for (uint d = p.dims; d-- > 0;) {  // the last dimension varies fastest
      const uint coordinate = rest % p.size[d];
      rest /= p.size[d];
      ia += coordinate * p.a_stride[d];
      ib += coordinate * p.b_stride[d];
    }
  }
  y[p.base2 + batch * p.count + i] = combine(a[p.base0 + batch * p.a_batch + ia], b[p.base1 + batch * p.b_batch + ib]);
}
