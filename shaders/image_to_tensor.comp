#version 450
#extension GL_GOOGLE_include_directive : require
// An application's image (RGBA8 unorm, RGBA16F or RGBA32F) to a (1, C, H, W) tensor: resized
// by averaging taps_x x taps_y filtered samples over each output pixel's footprint (a box
// filter when shrinking), then normalised per channel: (v - mean) * inv_std. C = 1 takes the
// luminance (Rec. 601 weights), C = 3 or 4 the colour channels in order.
// Bindings: 0 the image (combined image sampler), 1 the tensor.
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(set = 0, binding = 0) uniform sampler2D image;
layout(std430, binding = 1) writeonly buffer OutBuffer { float y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint width; uint height; uint channels; uint taps_x; uint taps_y;
  float mean[4];  // float arrays, not vec4: no alignment padding after the header's uints
  float inv_std[4];
} p;

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint i = gid * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  const uint plane = p.width * p.height;
  if (i >= plane) return;
  const vec2 pixel = vec2(i % p.width, i / p.width);
  const vec2 size = vec2(p.width, p.height), taps = vec2(p.taps_x, p.taps_y);
  vec4 sum = vec4(0.0);
  for (uint ty = 0; ty < p.taps_y; ++ty)
    for (uint tx = 0; tx < p.taps_x; ++tx)
      sum += textureLod(image, (pixel + (vec2(tx, ty) + 0.5) / taps) / size, 0.0);
  const vec4 c = sum / float(p.taps_x * p.taps_y);
  if (p.channels == 1) {
    y[p.base1 + i] = (dot(c.rgb, vec3(0.299, 0.587, 0.114)) - p.mean[0]) * p.inv_std[0];
  } else {
    for (uint ch = 0; ch < p.channels; ++ch) y[p.base1 + ch * plane + i] = (c[ch] - p.mean[ch]) * p.inv_std[ch];
  }
}
