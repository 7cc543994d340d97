#include "image.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "vkattn/error.h"

PreparedImage prepare_image(const std::string& path, int size) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw vkattn::Error("Cannot read image '" + path + "': it is a directory.");
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) throw vkattn::Error("Cannot read image '" + path + "': it is missing or unreadable.");
  return prepare_image_bytes(bytes, size, path);
}

namespace {

// Grey as stb's own conversion makes it (ITU-R 601 weights in 8-bit fixed point); alpha is ignored.
std::vector<unsigned char> to_grey(const unsigned char* px, size_t count, int channels) {
  std::vector<unsigned char> grey(count);
  for (size_t i = 0; i < count; ++i) {
    const unsigned char* p = px + i * channels;
    grey[i] = channels < 3 ? p[0] : static_cast<unsigned char>((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
  }
  return grey;
}

}  // namespace

PreparedImage prepare_image_bytes(std::string_view bytes, int size, const std::string& path) {
  const auto* file = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX));
  const auto undecodable = [&] {
    const char* reason = stbi_failure_reason();  // may be null for a damaged compressed stream
    return vkattn::Error("Cannot read image '" + path + "': it is missing, corrupt or not a picture stb_image decodes (" +
                         (reason ? reason : "no reason given") + ").");
  };
  // The size from the header first, so that a huge picture is refused before it is decoded. Past
  // this many pixels a side, the grey copy and the square crop below would take gigabytes, and no
  // garment photo needs it.
  constexpr int64_t kMaxSide = 8192;
  int w = 0, h = 0, channels = 0;
  if (bytes.size() > INT32_MAX || !stbi_info_from_memory(file, length, &w, &h, &channels)) throw undecodable();
  if (w < 1 || h < 1) throw undecodable();
  if (w > kMaxSide || h > kMaxSide)
    throw vkattn::Error("Cannot read image '" + path + "': it is " + std::to_string(w) + "x" + std::to_string(h) +
                        " pixels; classify takes pictures up to " + std::to_string(kMaxSide) + " pixels a side.");
  // Decoded in the file's own channels and made grey here: Debian's stb 2.27 converts a 16-bit
  // PNM's channels with its 8-bit routine and then reads past the buffer (found by fuzz_image).
  std::unique_ptr<unsigned char, void (*)(void*)> data(stbi_load_from_memory(file, length, &w, &h, &channels, 0),
                                                      stbi_image_free);
  if (!data) throw undecodable();
  if (w > kMaxSide || h > kMaxSide || w < 1 || h < 1 || channels < 1 || channels > 4) throw undecodable();  // the header lied
  const std::vector<unsigned char> luma = to_grey(data.get(), size_t(w) * h, channels);
  const unsigned char* px = luma.data();

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

  // Fashion-MNIST garments fill their frame: crop to the pixels that stand out from the background,
  // then centre that box on a square of background so the garment keeps its proportions.
  int x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (grey[size_t(y) * w + x] > 0.15f) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  if (x1 < 0) x0 = 0, y0 = 0, x1 = w - 1, y1 = h - 1;  // a blank picture: keep it whole
  const int bw = x1 - x0 + 1, bh = y1 - y0 + 1, side = std::max(bw, bh);
  std::vector<float> square(size_t(side) * side, 0.f);
  for (int y = 0; y < bh; ++y)
    std::copy_n(&grey[size_t(y0 + y) * w + x0], bw, &square[size_t(y + (side - bh) / 2) * side + (side - bw) / 2]);
  out.pixels.resize(size_t(size) * size);
  // A box filter when shrinking: each output pixel is the mean of the pixels it covers, as the
  // dataset's own downscaling did, without the extra blur of a smoother filter.
  const stbir_filter filter = side > size ? STBIR_FILTER_BOX : STBIR_FILTER_DEFAULT;
  if (!stbir_resize_float_generic(square.data(), side, side, 0, out.pixels.data(), size, size, 0, 1, -1, 0,
                                  STBIR_EDGE_ZERO, filter, STBIR_COLORSPACE_LINEAR, nullptr))
    throw vkattn::Error("Cannot resize image '" + path + "'.");
  for (float& v : out.pixels) v = std::clamp(v, 0.f, 1.f);  // the resize filter can overshoot
  return out;
}
