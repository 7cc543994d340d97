#include "noise.h"

#include <cmath>
#include <numbers>
#include <random>

std::vector<float> normal_noise(uint64_t seed, size_t count, size_t size) {
  std::mt19937_64 bits(seed);
  // In (0, 1]: never 0, whose logarithm Box-Muller cannot take.
  const auto uniform = [&] { return (double(bits() >> 11) + 1.0) * 0x1p-53; };
  std::vector<float> out(count * size);
  for (size_t i = 0; i < out.size(); i += 2) {
    const double radius = std::sqrt(-2.0 * std::log(uniform())), angle = 2.0 * std::numbers::pi * uniform();
    out[i] = float(radius * std::cos(angle));
    if (i + 1 < out.size()) out[i + 1] = float(radius * std::sin(angle));
  }
  return out;
}
