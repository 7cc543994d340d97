#include "heatmap.h"

#include <stb_image_resize.h>
#include <stb_image_write.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "vkattn/error.h"

namespace {

// A perceptually ordered map from dark blue through green to yellow (viridis-like), t in [0, 1].
std::array<float, 3> colour(float t) {
  static const float stops[5][3] = {
      {0.267f, 0.005f, 0.329f}, {0.230f, 0.322f, 0.546f}, {0.128f, 0.567f, 0.551f},
      {0.369f, 0.789f, 0.383f}, {0.993f, 0.906f, 0.144f}};
  const float x = std::clamp(t, 0.f, 1.f) * 4;
  const int i = std::min(3, int(x));
  const float f = x - i;
  return {stops[i][0] + f * (stops[i + 1][0] - stops[i][0]), stops[i][1] + f * (stops[i + 1][1] - stops[i][1]),
          stops[i][2] + f * (stops[i + 1][2] - stops[i][2])};
}

std::vector<float> upscale(const std::vector<float>& in, int h, int w, int out_h, int out_w) {
  std::vector<float> out(size_t(out_h) * out_w);
  if (!stbir_resize_float(in.data(), w, h, 0, out.data(), out_w, out_h, 0, 1))
    throw vkattn::Error("Cannot resize the heatmap.");
  return out;
}

}  // namespace

void write_heatmap(const std::string& path, const std::vector<float>& input, int size, const std::vector<float>& heat,
                   int map_h, int map_w, int scale) {
  const int side = size * scale;
  std::vector<float> picture(size_t(side) * side);  // nearest neighbour: the input's own pixels, as blocks
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) picture[size_t(y) * side + x] = input[size_t(y / scale) * size + x / scale];
  std::vector<float> map = upscale(heat, map_h, map_w, side, side);
  const auto [lo, hi] = std::minmax_element(map.begin(), map.end());
  const float low = *lo, span = *hi - *lo > 0 ? *hi - *lo : 1.f;
  for (float& v : map) v = (v - low) / span;

  std::vector<unsigned char> rgb(size_t(side) * 2 * side * 3);
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      const float g = std::clamp(picture[size_t(y) * side + x], 0.f, 1.f);
      const auto c = colour(map[size_t(y) * side + x]);
      unsigned char* left = &rgb[(size_t(y) * 2 * side + x) * 3];
      unsigned char* right = left + size_t(side) * 3;
      for (int k = 0; k < 3; ++k) {
        left[k] = static_cast<unsigned char>(std::lround(255 * g));
        right[k] = static_cast<unsigned char>(std::lround(255 * (0.45f * g + 0.55f * c[k])));
      }
    }
  if (!stbi_write_png(path.c_str(), 2 * side, side, 3, rgb.data(), 2 * side * 3))
    throw vkattn::Error("Cannot write '" + path + "'.");
}
