// residual's float64 reference, for the checks of ops built on it.
#pragma once
#include <vector>

namespace vkattn::reference {
// y = gamma o + x
std::vector<double> residual(const std::vector<double>& o, const std::vector<double>& x, double gamma);
}  // namespace vkattn::reference
