#include "heatmap.h"

#include <stb_image_resize.h>
#include <stb_image_write.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "vkattn/error.h"
#include "vkattn/output_file.h"

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

}  // namespace

std::vector<unsigned char> overlay_heatmap(const std::vector<float>& rgb, int width, int height,
                                           const std::vector<float>& heat, int map_h, int map_w) {
  std::vector<float> map(size_t(width) * height);
  if (!stbir_resize_float(heat.data(), map_w, map_h, 0, map.data(), width, height, 0, 1))
    throw vkattn::Error("Cannot resize the heatmap.");
  const auto [lo, hi] = std::minmax_element(map.begin(), map.end());
  const float low = *lo, span = *hi - *lo > 0 ? *hi - *lo : 1.f;
  std::vector<unsigned char> out(size_t(width) * height * 3);
  for (size_t p = 0; p < map.size(); ++p) {
    const auto c = colour((map[p] - low) / span);
    for (int k = 0; k < 3; ++k)
      out[p * 3 + k] = static_cast<unsigned char>(std::lround(255 * (0.45f * std::clamp(rgb[p * 3 + k], 0.f, 1.f) + 0.55f * c[k])));
  }
  return out;
}

std::vector<float> mean_attention_received(const float* map, size_t N) {
  std::vector<float> heat(N, 0.f);
  for (size_t i = 0; i < N; ++i)
    for (size_t j = 0; j < N; ++j) heat[j] += map[i * N + j] / float(N);
  return heat;
}

void write_png(const std::string& path, const std::vector<unsigned char>& rgb, int width, int height) {
  // Encoded in memory and written whole or not at all: stbi_write_png itself ignores write errors, which
  // would leave a truncated picture.
  std::string png;
  const auto append = [](void* to, void* data, int size) {
    static_cast<std::string*>(to)->append(static_cast<char*>(data), static_cast<size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &png, width, height, 3, rgb.data(), width * 3))
    throw vkattn::Error("Cannot encode '" + path + "' as PNG.");
  vkattn::write_output_file(path, png);
}
