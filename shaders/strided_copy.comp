#version 450
#extension GL_GOOGLE_include_directive : require
// Copies a region of each batch item: the element at coordinates c (up to kMaxDims of them,
// outermost first) goes from in[sum c_d in_stride_d] to out[sum c_d out_stride_d], both counted
// from their binding's window (the operand's offset). reshape, permute, slice and cat are all this.
// MODE (specialization constant 0): 0 strided, 1 contiguous (the region is one run in both
// tensors: no index arithmetic), 2 contiguous as vec4 (the host checked every start and count is a
// multiple of 4). Each thread copies four consecutive elements of the region; in the strided mode
// it takes its first index apart once and then steps along the innermost dimension, taking the
// index apart again only where a row ends. Bindings: 0 in, 1 out.
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint MODE = 0;
layout(constant_id = 1) const uint PER_LANE = 4;  // elements a thread copies (4 with MODE 2)
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t y[]; };
layout(std430, binding = 0) readonly buffer InBuffer4 { value4_t x4[]; };  // the same buffers
layout(std430, binding = 1) writeonly buffer OutBuffer4 { value4_t y4[]; };

const uint kMaxDims = 6;  // the host merges dimensions it can until this many are left at most
layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint count;     // elements of the region per batch item
  uint dims;      // dimensions of the region, 1 to kMaxDims
  uint in_item;   // elements from one batch item of in (out) to the next
  uint out_item;
  uint size[kMaxDims];
  uint in_stride[kMaxDims];
  uint out_stride[kMaxDims];
} p;

// Element i of the region: its offsets in in and out, and its innermost coordinate.
void locate(uint i, out uint at_in, out uint at_out, out uint inner) {
  at_in = 0;
  at_out = 0;
  inner = i % p.size[p.dims - 1];
  for (uint d = p.dims; d-- > 0;) {  // the last dimension varies fastest
    const uint c = i % p.size[d];
    i /= p.size[d];
    at_in += c * p.in_stride[d];
    at_out += c * p.out_stride[d];
  }
}

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint i = ((gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * PER_LANE;
  if (i >= p.count) return;
  const uint from = p.base0 + batch * p.in_item, to = p.base1 + batch * p.out_item;
  if (MODE == 2) {
    y4[(to + i) / 4] = x4[(from + i) / 4];  // the stored type as it is: no conversion
  } else if (MODE == 1) {
    for (uint k = i; k < i + PER_LANE && k < p.count; ++k) y[to + k] = x[from + k];
  } else {
    const uint last = p.dims - 1;
    uint at_in, at_out, inner;
    locate(i, at_in, at_out, inner);
    for (uint k = i; k < i + PER_LANE && k < p.count; ++k) {
      y[to + at_out] = x[from + at_in];
      if (++inner < p.size[last]) {
        at_in += p.in_stride[last];
        at_out += p.out_stride[last];
      } else {
        locate(k + 1, at_in, at_out, inner);
      }
    }
  }
}
