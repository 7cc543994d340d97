// 2-D pooling, four consecutive output elements (c, oy, ox) of a batch item per invocation. The
// includer defines MAX_POOL or AVG_POOL. Taps are dilation apart. Padding is outside the image: it
// never wins a max and counts as zero in the average, whose divisor is `divisor`, or with
// WINDOW_DIVISOR (the host's choice, where windows differ) each window's size clipped to `border`
// around the input (the padding for PyTorch's count_include_pad, else 0): a ceil_mode window may
// overhang the padding, a window without count_include_pad the input.
// With VEC4_STORE (C*OH*OW a multiple of 4: the host's choice) the four outputs are one vec4 store.
// Bindings: 0 in (B, C, H, W), 1 out (B, C, OH, OW).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const bool VEC4_STORE = false;
layout(constant_id = 1) const bool WINDOW_DIVISOR = false;
layout(constant_id = 2) const bool DILATED = false;
layout(std430, binding = 0) readonly buffer InBuffer { value_t x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t y[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer4 { value4_t y4[]; };  // the same buffer

// Taps are adjacent, known when compiled (measured: a dilation read from the push constants slowed
// the plain pools), unless DILATED (the host's choice; max pooling only, as in PyTorch).
#define DILATION_H (DILATED ? int(p.dilation_h) : 1)
#define DILATION_W (DILATED ? int(p.dilation_w) : 1)

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint channels; uint in_h; uint in_w; uint out_h; uint out_w;
  uint kernel_h; uint kernel_w; uint stride_h; uint stride_w; uint pad_h; uint pad_w;
  uint dilation_h; uint dilation_w; uint border_h; uint border_w; uint divisor;
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint out_plane = p.out_h * p.out_w, count = p.channels * out_plane;
  const uint i0 = ((gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * 4;
  if (i0 >= count) return;  // no barriers here
  // Where output i0 lies, worked out once (a vector integer division is a scalar loop on
  // lavapipe); the next three step along the row and wrap.
  uint c = i0 / out_plane, oy = (i0 % out_plane) / p.out_w, ox = i0 % p.out_w;
  vec4 acc;
  [[unroll]] for (uint q = 0; q < 4; ++q) {
    if (q > 0) {  // past the end: a position that is never stored
      ++ox;
      if (ox == p.out_w) ox = 0, ++oy;
      if (oy == p.out_h) oy = 0, c = min(c + 1, p.channels - 1);
    }
    const uint plane = p.base0 + (batch * p.channels + c) * p.in_h * p.in_w;
    const int y0 = int(oy * p.stride_h) - int(p.pad_h), x0 = int(ox * p.stride_w) - int(p.pad_w);
#ifdef MAX_POOL
    float a = -1.0 / 0.0;  // as PyTorch's, for a dilated window that holds no input element
#else
    float a = 0.0;
#endif
    // Every tap of every window, the padded ones read at the plane's start and not counted:
    // the same trip count in every lane.
    for (int ky = 0; ky < int(p.kernel_h); ++ky)
      for (int kx = 0; kx < int(p.kernel_w); ++kx) {
        const int iy = y0 + ky * DILATION_H, ix = x0 + kx * DILATION_W;
        const bool inside = iy >= 0 && iy < int(p.in_h) && ix >= 0 && ix < int(p.in_w);
        const float v = x[plane + (inside ? uint(iy) * p.in_w + uint(ix) : 0u)];
#ifdef MAX_POOL
        a = inside ? max_nan(a, v) : a;  // a NaN in the window wins, as in PyTorch
#else
        a += inside ? v : 0.0;
#endif
      }
#ifdef AVG_POOL
    if (WINDOW_DIVISOR) {
      const int bh = int(p.border_h), bw = int(p.border_w);
      const int rows = min(y0 + int(p.kernel_h), int(p.in_h) + bh) - max(y0, -bh);
      const int columns = min(x0 + int(p.kernel_w), int(p.in_w) + bw) - max(x0, -bw);
      a /= float(rows * columns);
    } else {
      a /= float(p.divisor);
    }
#endif
    acc[q] = a;
  }
  const uint at = p.base1 + batch * count + i0;
  if (VEC4_STORE) {
    y4[at / 4] = value4_t(acc);
  } else {
    [[unroll]] for (uint q = 0; q < 4; ++q)
      if (i0 + q < count) y[at + q] = value_t(acc[q]);
  }
}
