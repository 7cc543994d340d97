// Attention heatmaps for the samples: a map laid over a picture, written as PNG.
#pragma once
#include <string>
#include <vector>

// rgb: width x height x 3 values in [0, 1]; heat: map_h x map_w values in any range, scaled to
// their own min..max and resized to the picture (bilinear). Returns width x height x 3 bytes:
// 45% picture, 55% colour (dark blue = little attention, yellow = most).
std::vector<unsigned char> overlay_heatmap(const std::vector<float>& rgb, int width, int height,
                                           const std::vector<float>& heat, int map_h, int map_w);

// Column means of one (N, N) attention map: how much attention each position receives,
// averaged over all N query positions.
std::vector<float> mean_attention_received(const float* map, size_t N);

// Throws vkattn::Error if the file cannot be written.
void write_png(const std::string& path, const std::vector<unsigned char>& rgb, int width, int height);
