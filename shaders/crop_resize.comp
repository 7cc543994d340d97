#version 450
#extension GL_GOOGLE_include_directive : require
// Each batch item's box of its image, resized to out_h x out_w bilinearly as PyTorch's
// F.interpolate(crop, size, mode="bilinear", align_corners=False): source coordinate
// (d + 0.5) * in / out - 0.5, clamped at 0, and the last row or column repeated past the edge.
// One thread per output element. Boxes are clamped to the image, so no read leaves it.
// Bindings: 0 image (B, C, H, W), 1 boxes (B, 4) as top, left, bottom, right (ends exclusive),
// 2 out (B, C, out_h, out_w).
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer ImageBuffer { value_t image[]; };
layout(std430, binding = 1) readonly buffer BoxBuffer { value_t boxes[]; };
layout(std430, binding = 2) writeonly buffer OutBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint channels; uint in_h; uint in_w; uint out_h; uint out_w;
} p;

// One axis: the two source indices inside [first, first + size) and the second one's weight.
void source(uint d, uint out_size, float box_first, float box_end, uint image_size,
            out uint i0, out uint i1, out float weight) {
  const uint first = min(uint(max(box_first, 0.0)), image_size - 1);
  const uint size = clamp(uint(max(box_end, 0.0)), first + 1, image_size) - first;
  const float at = max((float(d) + 0.5) * (float(size) / float(out_size)) - 0.5, 0.0);
  const uint lower = min(uint(at), size - 1);
  weight = at - float(lower);
  i0 = first + lower;
  i1 = first + min(lower + 1, size - 1);
}

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint i = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  const uint out_plane = p.out_h * p.out_w;
  if (i >= p.channels * out_plane) return;
  const uint c = i / out_plane, oy = (i % out_plane) / p.out_w, ox = i % p.out_w;
  const uint b = p.base1 + batch * 4;
  uint y0, y1, x0, x1;
  float wy, wx;
  source(oy, p.out_h, boxes[b + 0], boxes[b + 2], p.in_h, y0, y1, wy);
  source(ox, p.out_w, boxes[b + 1], boxes[b + 3], p.in_w, x0, x1, wx);
  const uint plane = p.base0 + (batch * p.channels + c) * p.in_h * p.in_w;
  const float top = (1.0 - wx) * image[plane + y0 * p.in_w + x0] + wx * image[plane + y0 * p.in_w + x1];
  const float bottom = (1.0 - wx) * image[plane + y1 * p.in_w + x0] + wx * image[plane + y1 * p.in_w + x1];
  y[p.base2 + batch * p.channels * out_plane + i] = value_t((1.0 - wy) * top + wy * bottom);
}
