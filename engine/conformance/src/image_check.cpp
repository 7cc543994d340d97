#include "vkattn/image_check.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace vkattn::conformance {
namespace {

double half_to_double(uint16_t h) {
  const int e = (h >> 10) & 31, m = h & 1023;
  const double v = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(1024 + m, e - 25);
  return (h & 0x8000) ? -v : v;
}

// Whether half h is t rounded to half precision: t itself when it is a half, else within one
// half step of it (either neighbour).
bool is_half_of(uint16_t h, float t) {
  const double v = half_to_double(h);
  if (v == t) return true;
  const double a = std::abs(t);
  const int e = a < std::ldexp(1.0, -14) ? -14 : std::ilogb(a);
  return std::abs(v - t) < std::ldexp(1.0, e - 10);
}

double srgb_encode(double c) { return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1 / 2.4) - 0.055; }

// The samples' heatmap colours (samples/common/heatmap.cpp), in double.
std::array<double, 3> viridis(double t) {
  static const double stops[5][3] = {{0.267, 0.005, 0.329}, {0.230, 0.322, 0.546}, {0.128, 0.567, 0.551},
                                     {0.369, 0.789, 0.383}, {0.993, 0.906, 0.144}};
  const double s = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, int(s));
  const double f = s - i;
  return {stops[i][0] + f * (stops[i + 1][0] - stops[i][0]), stops[i][1] + f * (stops[i + 1][1] - stops[i][1]),
          stops[i][2] + f * (stops[i + 1][2] - stops[i][2])};
}

// Texel `p` of layer `b` as RGBA in the mapped (linear) domain; `exact`: no colour-map arithmetic.
std::array<double, 4> expected(const ImageOutput& out, const Shape& shape, const std::vector<float>& y, int64_t b,
                               int64_t p, bool& exact) {
  const int64_t C = shape[1], plane = shape[2] * shape[3];
  std::array<double, 4> v = {0, 0, 0, 1};
  bool nan = false;
  for (int64_t c = 0; c < C; ++c) {
    const float t = y[(b * C + c) * plane + p];
    nan = nan || std::isnan(t);
    const float scaled = t * out.scale;  // the kernel's float arithmetic, rounded at each step
    v[c] = double(scaled + out.bias);
  }
  exact = true;
  if (C == 1) {
    if (out.colour_map == ImageOutput::ColourMap::viridis && !nan) {
      const auto rgb = viridis(v[0]);
      v = {rgb[0], rgb[1], rgb[2], 1};
      exact = false;
    } else {
      v = {v[0], v[0], v[0], 1};
    }
  }
  for (double& c : v) {
    if (out.format == VK_FORMAT_R8G8B8A8_UNORM || out.format == VK_FORMAT_R8G8B8A8_SRGB) c = std::clamp(c, 0.0, 1.0);
    if (out.format == VK_FORMAT_R16G16B16A16_SFLOAT) c = std::clamp(c, -65504.0, 65504.0);
  }
  if (nan) v = {out.nan_colour[0], out.nan_colour[1], out.nan_colour[2], out.nan_colour[3]};
  return v;
}

}  // namespace

uint32_t texel_bytes(VkFormat format) {
  return format == VK_FORMAT_R16G16B16A16_SFLOAT ? 8 : format == VK_FORMAT_R32G32B32A32_SFLOAT ? 16 : 4;
}

std::string compare_texels(const ImageOutput& out, const Shape& shape, const std::vector<float>& tensor,
                           const unsigned char* texels) {
  const int64_t B = shape[0], plane = shape[2] * shape[3];
  const uint32_t size = texel_bytes(out.format);
  const int channels = out.format == VK_FORMAT_R32_SFLOAT ? 1 : 4;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = 0; p < plane; ++p) {
      bool exact = true;
      const auto want = expected(out, shape, tensor, b, p, exact);
      const unsigned char* t = texels + (b * plane + p) * size;
      for (int k = 0; k < channels; ++k) {
        bool ok = false;
        double got = 0, target = want[k];
        if (out.format == VK_FORMAT_R8G8B8A8_UNORM || out.format == VK_FORMAT_R8G8B8A8_SRGB) {
          target = (out.format == VK_FORMAT_R8G8B8A8_SRGB && k < 3 ? srgb_encode(want[k]) : want[k]) * 255;
          got = t[k];
          ok = std::abs(got - target) <= 1;
        } else if (out.format == VK_FORMAT_R16G16B16A16_SFLOAT) {
          uint16_t h;
          std::memcpy(&h, t + 2 * k, 2);
          got = half_to_double(h);
          ok = exact ? is_half_of(h, float(target)) : std::abs(got - target) <= 1e-3;
        } else {
          float f;
          std::memcpy(&f, t + 4 * k, 4);
          got = f;
          ok = exact ? f == float(target) : std::abs(got - target) <= 1e-6;
        }
        if (!ok)
          return "layer " + std::to_string(b) + ", pixel (" + std::to_string(p % shape[3]) + ", " +
                 std::to_string(p / shape[3]) + "), channel " + std::to_string(k) + ": " + std::to_string(got) +
                 " where " + std::to_string(target) + " is due";
      }
    }
  return "";
}

}  // namespace vkattn::conformance
