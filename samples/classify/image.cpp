#include "image.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <memory>

#include "vkattn/error.h"

PreparedImage prepare_image(const std::string& path, int size) {
  int w = 0, h = 0, channels = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> data(stbi_load(path.c_str(), &w, &h, &channels, 1), stbi_image_free);
  if (!data) throw vkattn::Error("Cannot read image '" + path + "': it is missing, corrupt or not a picture stb_image decodes (" +
                        stbi_failure_reason() + ").");
  const unsigned char* px = data.get();

  // The border tells the background: Fashion-MNIST has dark backgrounds, most photos light ones.
  double border = 0;
  int count = 0;
  for (int x = 0; x < w; ++x) border += px[x] + px[(h - 1) * w + x], count += 2;
  for (int y = 0; y < h; ++y) border += px[y * w] + px[y * w + w - 1], count += 2;
  PreparedImage out;
  out.inverted = border / count > 127.5;
  std::vector<float> grey(size_t(w) * h);
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = (out.inverted ? 255 - px[i] : px[i]) / 255.f;
  const float background = float(out.inverted ? 1.0 - border / count / 255 : border / count / 255);

  // Levels: background to 0, brightest pixel to 1.
  const float top = *std::max_element(grey.begin(), grey.end());
  const float range = top - background > 1e-3f ? top - background : 1.f;
  for (float& v : grey) v = std::clamp((v - background) / range, 0.f, 1.f);

  // Centre on a square of background so the garment keeps its proportions.
  const int side = std::max(w, h);
  std::vector<float> square(size_t(side) * side, 0.f);
  for (int y = 0; y < h; ++y)
    std::copy_n(&grey[size_t(y) * w], w, &square[size_t(y + (side - h) / 2) * side + (side - w) / 2]);
  out.pixels.resize(size_t(size) * size);
  if (!stbir_resize_float(square.data(), side, side, 0, out.pixels.data(), size, size, 0, 1))
    throw vkattn::Error("Cannot resize image '" + path + "'.");
  for (float& v : out.pixels) v = std::clamp(v, 0.f, 1.f);  // the resize filter can overshoot
  return out;
}
