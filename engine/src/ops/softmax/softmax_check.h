// softmax's float64 reference, for the checks of ops built on it.
#pragma once
#include <cstdint>
#include <vector>

namespace vkattn::reference {
// exp(x - max) / sum exp(x - max) over each of `rows` rows of length L
std::vector<double> softmax(const std::vector<double>& x, int64_t rows, int64_t L);
}  // namespace vkattn::reference
