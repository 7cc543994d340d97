// scores' float64 reference, for the checks of ops built on it.
#pragma once
#include <cstdint>
#include <vector>

namespace vkattn::reference {
// s[b, i, j] = scale * sum_c q[b, c, i] k[b, c, j]; q, k are (B, Cq, N)
std::vector<double> scores(const std::vector<double>& q, const std::vector<double>& k, int64_t B, int64_t Cq,
                           int64_t N, double scale);
}  // namespace vkattn::reference
