#version 450
#extension GL_GOOGLE_include_directive : require
// Hard attention's box (AG-CNN's crop): per batch item, the h x w heatmap r (the attention each
// grid cell receives), the smallest box of cells with r >= threshold * max(r), and that box in
// the pixels of the H x W image the grid covers: rows floor(r0 H / h) to ceil((r1 + 1) H / h),
// columns alike, ends exclusive. One workgroup per item, strided over the cells. A heatmap holding
// NaN (an attention map that held NaN) has a NaN maximum, so no cell passes and the box is the
// whole image, as vkattn.nn.attention_boxes (PyTorch's max keeps NaN); so is threshold 0 with a
// +inf maximum (0 * inf is NaN) and a map of -inf alone.
// Bindings: 0 in (B, h * w), 1 out (B, 4) as top, left, bottom, right.
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer InBuffer { value_t r[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { value_t box[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint grid_h; uint grid_w; uint image_h; uint image_w;
  float threshold;
} p;

const uint kLanes = gl_WorkGroupSize.x;
shared float peak[kLanes];
shared uint low_row[kLanes], high_row[kLanes], low_col[kLanes], high_col[kLanes];

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;  // whole workgroup leaves together
  const uint t = gl_LocalInvocationID.x, cells = p.grid_h * p.grid_w, start = p.base0 + gid * cells;
  float m = uintBitsToFloat(0xff800000u);  // -infinity
  for (uint j = t; j < cells; j += kLanes) m = max_nan(m, r[start + j]);
  peak[t] = m;
  barrier();
  for (uint half_ = kLanes / 2; half_ > 0; half_ >>= 1) {
    if (t < half_) peak[t] = max_nan(peak[t], peak[t + half_]);
    barrier();
  }
  const float limit = p.threshold * peak[0];
  uint r0 = p.grid_h, r1 = 0, c0 = p.grid_w, c1 = 0;
  for (uint j = t; j < cells; j += kLanes) {
    if (r[start + j] >= limit) {
      const uint row = j / p.grid_w, col = j % p.grid_w;
      r0 = min(r0, row); r1 = max(r1, row); c0 = min(c0, col); c1 = max(c1, col);
    }
  }
  low_row[t] = r0; high_row[t] = r1; low_col[t] = c0; high_col[t] = c1;
  barrier();
  for (uint half_ = kLanes / 2; half_ > 0; half_ >>= 1) {
    if (t < half_) {
      low_row[t] = min(low_row[t], low_row[t + half_]);
      high_row[t] = max(high_row[t], high_row[t + half_]);
      low_col[t] = min(low_col[t], low_col[t + half_]);
      high_col[t] = max(high_col[t], high_col[t + half_]);
    }
    barrier();
  }
  if (t != 0) return;
  r0 = low_row[0]; r1 = high_row[0]; c0 = low_col[0]; c1 = high_col[0];
  if (r0 > r1 || c0 > c1) {  // no cell passed (a NaN limit, see above): the whole image
    r0 = 0; r1 = p.grid_h - 1; c0 = 0; c1 = p.grid_w - 1;
  }
  const uint at = p.base1 + gid * 4;
  box[at + 0] = value_t(float(r0 * p.image_h / p.grid_h));
  box[at + 1] = value_t(float(c0 * p.image_w / p.grid_w));
  box[at + 2] = value_t(float(((r1 + 1) * p.image_h + p.grid_h - 1) / p.grid_h));
  box[at + 3] = value_t(float(((c1 + 1) * p.image_w + p.grid_w - 1) / p.grid_w));
}
