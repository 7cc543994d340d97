// The generator's input: standard normal noise from a seed, the same numbers on every platform
// and standard library (std::normal_distribution's algorithm is the library's own choice).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

// count x size values: 64-bit Mersenne Twister (std::mt19937_64, fully specified by the standard),
// 53-bit uniform doubles from it, Box-Muller pairs, rounded to float.
std::vector<float> normal_noise(uint64_t seed, size_t count, size_t size);
