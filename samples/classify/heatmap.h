// The picture `classify` writes: the model's input, upscaled, beside the same input with an
// attention heatmap laid over it.
#pragma once
#include <string>
#include <vector>

// input: size x size grey in [0, 1]; heat: map_h x map_w values (any range; scaled to its own
// min..max). Writes a PNG of (2 * scale * size) x (scale * size) pixels; throws vkattn::Error if
// the file cannot be written.
void write_heatmap(const std::string& path, const std::vector<float>& input, int size, const std::vector<float>& heat,
                   int map_h, int map_w, int scale);
