// attend's float64 reference, for the checks of ops built on it.
#pragma once
#include <cstdint>
#include <vector>

namespace vkattn::reference {
// o[b, c, i] = sum_j v[b, c, j] a[b, i, j]
std::vector<double> attend(const std::vector<double>& v, const std::vector<double>& a, int64_t B, int64_t Cv,
                           int64_t N);
}  // namespace vkattn::reference
