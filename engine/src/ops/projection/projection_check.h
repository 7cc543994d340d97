// projection's float64 reference, for the checks of ops built on it.
#pragma once
#include <cstdint>
#include <vector>

namespace vkattn::reference {
// y[b, m, n] = sum_c w[m, c] x[b, c, n] + bias[m]
std::vector<double> projection(const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>& bias, int64_t B, int64_t C, int64_t M, int64_t N);
}  // namespace vkattn::reference
