#version 450
#extension GL_GOOGLE_include_directive : require
// F.pad: each output element of a batch item reads the input element its coordinates minus the
// pads before name, or, outside the input, what the mode says: MODE (specialization constant 0)
// 0 the constant p.value, 1 reflect (mirrored about the edge element, which is not repeated), 2
// edge (the nearest edge element). A negative pad before shifts the other way: the input is cut.
// The host merges neighbouring dimensions that no pad touches, so that kMaxDims suffice for any
// rank. One output element per invocation. Bindings: 0 x, 1 y.
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint MODE = 0;  // 0 constant, 1 reflect, 2 edge
layout(std430, binding = 0) readonly buffer XBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer YBuffer { value_t y[]; };

const uint kMaxDims = 6;  // dimensions after the batch, once merged
layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint count;    // elements of y per batch item
  uint in_item;  // elements of x per batch item
  uint dims;     // dimensions after the batch, 1 to kMaxDims
  float value;   // the constant mode's fill
  uint out_size[kMaxDims];
  uint in_size[kMaxDims];
  int before[kMaxDims];  // elements added before the input along each dimension (negative: cut)
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint i = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.count) return;
  uint rest = i, at = 0, stride = 1;
  bool inside = true;
  for (uint d = p.dims; d-- > 0;) {  // the last dimension varies fastest
    const int n = int(p.in_size[d]);
    int c = int(rest % p.out_size[d]) - p.before[d];
    rest /= p.out_size[d];
    if (c < 0 || c >= n) {
      // The host refuses reflect pads of n or more, so one reflection lands inside.
      if (MODE == 0) inside = false;
      else if (MODE == 1) c = c < 0 ? -c : 2 * (n - 1) - c;
      else c = clamp(c, 0, n - 1);
    }
    at += uint(c) * stride;
    stride *= uint(n);
  }
  // In constant mode a position outside the input reads nothing (its index may lie past the item).
  float v = p.value;
  if (inside) v = x[p.base0 + batch * p.in_item + at];
  y[p.base1 + batch * p.count + i] = value_t(v);
}
