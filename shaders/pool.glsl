// 2-D pooling, one thread per output element (b, c, oy, ox) of a batch item. The includer
// defines MAX_POOL or AVG_POOL. Padding is outside the image: it never wins a max and counts as
// zero in the average (PyTorch's count_include_pad), so the divisor is always KH*KW.
// Bindings: 0 in (B, C, H, W), 1 out (B, C, OH, OW).
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer InBuffer { float x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { float y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint channels; uint in_h; uint in_w; uint out_h; uint out_w;
  uint kernel_h; uint kernel_w; uint stride_h; uint stride_w; uint pad_h; uint pad_w;
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint i = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  const uint out_plane = p.out_h * p.out_w;
  if (i >= p.channels * out_plane) return;
  const uint c = i / out_plane, oy = (i % out_plane) / p.out_w, ox = i % p.out_w;
  const uint plane = p.base0 + (batch * p.channels + c) * p.in_h * p.in_w;
  const int y0 = int(oy * p.stride_h) - int(p.pad_h), x0 = int(ox * p.stride_w) - int(p.pad_w);
#ifdef MAX_POOL
  float acc = -1.0 / 0.0;  // every window holds at least one real element (padding <= kernel/2)
#else
  float acc = 0.0;
#endif
  for (int ky = max(0, -y0); ky < int(p.kernel_h) && y0 + ky < int(p.in_h); ++ky)
    for (int kx = max(0, -x0); kx < int(p.kernel_w) && x0 + kx < int(p.in_w); ++kx) {
      const float v = x[plane + uint(y0 + ky) * p.in_w + uint(x0 + kx)];
#ifdef MAX_POOL
      acc = max(acc, v);
#else
      acc += v;
#endif
    }
#ifdef AVG_POOL
  acc /= float(p.kernel_h * p.kernel_w);
#endif
  y[p.base1 + batch * p.channels * out_plane + i] = acc;
}
