// Turning any picture into what the classifier was trained on: 28x28 grey, the garment light on
// a black background, values in [0, 1].
#pragma once
#include <string>
#include <string_view>
#include <vector>

struct PreparedImage {
  std::vector<float> pixels;  // size*size values in [0, 1], row-major
  bool inverted = false;      // the picture had a light background, so it was inverted
};

// Reads a PNG, JPEG, BMP, TGA, GIF, PSD, HDR, PIC or PNM file (stb_image), converts it to grey,
// inverts it if its border is light, stretches it so the background is 0 and the brightest pixel
// 1, crops it to the garment, pads it to a square with the background and resizes it to
// size x size. Throws vkattn::Error
// if the file cannot be read or decoded.
PreparedImage prepare_image(const std::string& path, int size);
// The same from the file's bytes in memory; `path` names them in error messages.
PreparedImage prepare_image_bytes(std::string_view bytes, int size, const std::string& path);
