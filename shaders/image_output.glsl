// A (B, C, H, W) tensor into an application's storage image, item b into array layer b: each value
// v * scale + bias, C = 1 as grey or through the viridis map, C = 3 as RGB with alpha 1, C = 4 as
// it is; clamped to the format's range; a pixel with a NaN in any channel becomes nan_colour. The
// including shader defines IMAGE_FORMAT, the storage format qualifier of the image's view.
// Bindings: 0 the image (storage, 2-D array), 1 the tensor.
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(set = 0, binding = 0, IMAGE_FORMAT) uniform writeonly image2DArray picture;
layout(std430, binding = 1) readonly buffer InBuffer { float x[]; };

const uint ENCODING_UNORM = 0, ENCODING_SRGB = 1, ENCODING_HALF = 2, ENCODING_FLOAT = 3;

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint width; uint height; uint channels; uint layers; uint encoding; uint viridis;
  float scale; float bias;
  float nan_colour[4];  // float array, not vec4: no alignment padding after the uints
} p;

// The samples' heatmap colours (samples/common/heatmap.cpp): five stops from dark blue through
// green to yellow, linear between them.
vec3 viridis(float t) {
  const vec3 stops[5] = vec3[5](vec3(0.267, 0.005, 0.329), vec3(0.230, 0.322, 0.546), vec3(0.128, 0.567, 0.551),
                                vec3(0.369, 0.789, 0.383), vec3(0.993, 0.906, 0.144));
  const float s = clamp(t, 0.0, 1.0) * 4.0;
  const int i = clamp(int(s), 0, 3);  // clamp() of NaN is undefined: keep the index in range anyway
  return mix(stops[i], stops[i + 1], s - float(i));
}

// Linear to the sRGB transfer curve (IEC 61966-2-1), what sampling an sRGB image undoes.
float srgb_encode(float c) { return c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c, 1.0 / 2.4) - 0.055; }

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint i = gid * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  const uint plane = p.width * p.height;
  if (i >= plane * p.layers) return;
  const uint layer = i / plane, pixel = i % plane;
  const uint first = p.base0 + layer * p.channels * plane + pixel;
  vec4 v = vec4(0.0, 0.0, 0.0, 1.0);
  bool nan = false;
  for (uint c = 0; c < p.channels; ++c) {
    const float t = x[first + c * plane];
    nan = nan || isnan(t);
    precise float mapped = t * p.scale + p.bias;  // no fused multiply-add: one rounding per step, as the host's
    v[c] = mapped;
  }
  if (p.channels == 1) v = p.viridis != 0 && !nan ? vec4(viridis(v.r), 1.0) : vec4(v.rrr, 1.0);
  if (p.encoding == ENCODING_UNORM || p.encoding == ENCODING_SRGB) v = clamp(v, 0.0, 1.0);
  if (p.encoding == ENCODING_HALF) v = clamp(v, -65504.0, 65504.0);
  if (nan) v = vec4(p.nan_colour[0], p.nan_colour[1], p.nan_colour[2], p.nan_colour[3]);
  if (p.encoding == ENCODING_SRGB) v.rgb = vec3(srgb_encode(v.r), srgb_encode(v.g), srgb_encode(v.b));
  imageStore(picture, ivec3(pixel % p.width, pixel / p.width, layer), v);
}
