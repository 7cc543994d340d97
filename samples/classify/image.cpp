#include "image.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vkattn/error.h"
#include "vkattn/io.h"

PreparedImage prepare_image(const std::string& path, int size) {
  std::string bytes;
  try {
    bytes = vkattn::read_file(path);  // a regular file, up to the size it says
  } catch (const vkattn::Error& e) {
    std::string why = e.what();
    if (why.rfind("Cannot", 0) == 0) why[0] = 'c';
    throw vkattn::Error("Cannot read image: " + why);
  }
  return prepare_image_bytes(bytes, size, path);
}

namespace {

// The most pixels a byte of the format can stand for, at its best compression (deflate's 1032:1
// on 1-bit PNG rows; one bit per 8x8 block in a DC-only progressive JPEG; a 4096-pixel LZW string
// per 12-bit GIF code; 127-pixel runs per two bytes of each RGBE component in HDR; 128-pixel
// PackBits runs in PSD and TGA; raw PNM exactly its samples), with room to spare.
double most_pixels_per_byte(std::string_view bytes) {
  const auto starts = [&](std::string_view magic) { return bytes.substr(0, magic.size()) == magic; };
  if (starts("P5")) return 1.0;
  if (starts("P6")) return 1.0 / 3;
  if (starts("BM")) return 8;
  if (starts("#?RADIANCE") || starts("#?RGBE")) return 16;
  if (starts("8BPS")) return 64;
  if (starts("\xff\xd8")) return 1024;
  if (starts("GIF8")) return 4096;
  if (starts("\x89PNG")) return 8256;
  return 65536;  // TGA has no magic; Softimage PIC's mixed runs reach 65535 pixels
}

// Grey as stb's own conversion makes it (ITU-R 601 weights in 8-bit fixed point); alpha is ignored.
std::vector<unsigned char> to_grey(const unsigned char* px, size_t count, int channels) {
  std::vector<unsigned char> grey(count);
  for (size_t i = 0; i < count; ++i) {
    const unsigned char* p = px + i * channels;
    grey[i] = channels < 3 ? p[0] : static_cast<unsigned char>((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
  }
  return grey;
}

// A PNG's chunks each fit in the file. Debian's stb 2.27 grows its buffer for the image data to
// the length a chunk header declares before it reads the chunk, so a forged length of a gigabyte
// allocates gigabytes from a file of a hundred bytes (found by fuzz_image). Not a PNG: true.
bool png_chunks_fit(std::string_view b) {
  if (b.substr(0, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8)) return true;
  const auto u32 = [&](size_t at) {
    return uint32_t(uint8_t(b[at])) << 24 | uint32_t(uint8_t(b[at + 1])) << 16 | uint32_t(uint8_t(b[at + 2])) << 8 |
           uint32_t(uint8_t(b[at + 3]));
  };
  for (size_t at = 8; at + 8 <= b.size();) {
    const uint64_t length = u32(at);
    if (length + 12 > b.size() - at) return false;  // length, type, data and CRC past the end
    if (b.substr(at + 4, 4) == "IEND") return true;
    at += 12 + length;
  }
  return true;  // truncated between chunks: stb's own error
}

// A JPEG's Huffman tables each hold at most 256 codes. Debian's stb 2.27 does not check: a DHT
// segment whose code counts add up past 256 makes it write past its table (found by fuzz_image).
// Walks the segments as stb does; true when none is such a table.
bool jpeg_tables_fit(std::string_view b) {
  // stb takes any run of 0xFF fill bytes before the start-of-image marker D8.
  size_t at = 0;
  while (at < b.size() && uint8_t(b[at]) == 0xFF) ++at;
  if (at == 0 || at >= b.size() || uint8_t(b[at]) != 0xD8) return true;  // not a JPEG
  ++at;
  while (at + 2 <= b.size()) {
    if (uint8_t(b[at]) != 0xFF) {  // not a marker: stb skips such bytes until one
      ++at;
      continue;
    }
    const uint8_t marker = uint8_t(b[at + 1]);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    // No length: a stuffed 0xFF in scan data (FF 00), restart markers, SOI, TEM.
    if (marker == 0x00 || marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      at += 2;
      continue;
    }
    if (marker == 0xD9) return true;  // the end; after a scan's header (DA) its data bytes are skipped
                                      // one by one, as a progressive JPEG defines tables between scans
    if (at + 4 > b.size()) return true;
    const size_t length = size_t(uint8_t(b[at + 2])) << 8 | uint8_t(b[at + 3]);
    if (marker == 0xC4) {  // as stb walks it: tables while the length lasts, counts read past it too
      size_t p = at + 4;
      for (int64_t left = int64_t(length) - 2; left > 0 && p < b.size();) {
        size_t codes = 0;
        for (size_t i = 1; i <= 16 && p + i < b.size(); ++i) codes += uint8_t(b[p + i]);
        if (codes > 256) return false;
        p += 17 + codes;
        left -= int64_t(17 + codes);
      }
    }
    at += 2 + length;
  }
  return true;
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
  // The size from the header first, so that a huge picture is refused before it is decoded: past
  // this many pixels the grey copy and the square crop below would take gigabytes, and no garment
  // photo needs it; and a header that promises more pixels than the file can encode is lying.
  constexpr int64_t kMaxSide = 8192, kMaxPixels = int64_t{1} << 25;
  int w = 0, h = 0, channels = 0;
  if (!jpeg_tables_fit(bytes))
    throw vkattn::Error("Cannot read image '" + path + "': a Huffman table of this JPEG holds more than 256 codes "
                        "(a damaged or forged file).");
  if (!png_chunks_fit(bytes))
    throw vkattn::Error("Cannot read image '" + path + "': a chunk of this PNG is longer than the file "
                        "(a damaged or forged file).");
  if (bytes.size() > INT32_MAX || !stbi_info_from_memory(file, length, &w, &h, &channels)) throw undecodable();
  if (w < 1 || h < 1) throw undecodable();
  if (w > kMaxSide || h > kMaxSide)
    throw vkattn::Error("Cannot read image '" + path + "': it is " + std::to_string(w) + "x" + std::to_string(h) +
                        " pixels; classify takes pictures up to " + std::to_string(kMaxSide) + " pixels a side.");
  if (int64_t(w) * h > kMaxPixels)
    throw vkattn::Error("Cannot read image '" + path + "': it is " + std::to_string(w) + "x" + std::to_string(h) +
                        " pixels; classify takes pictures of up to " + std::to_string(kMaxPixels) + " pixels.");
  if (double(w) * h > most_pixels_per_byte(bytes) * double(bytes.size()))
    throw vkattn::Error("Cannot read image '" + path + "': its header says " + std::to_string(w) + "x" +
                        std::to_string(h) + " pixels, more than its " + std::to_string(bytes.size()) +
                        " bytes can hold (a damaged or forged file).");
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
