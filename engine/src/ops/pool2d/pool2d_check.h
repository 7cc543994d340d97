// The pools' float64 reference, for the checks of ops that fold a pool in.
#pragma once
#include <cstdint>
#include <vector>

#include "vkattn/ops.h"

namespace vkattn::reference {
// Max (padding never wins) or average (padding counts as zero) over each k window, with stride s
// and padding pad, of `planes` planes of H x W.
std::vector<double> pool2d(const std::vector<double>& x, int64_t planes, int64_t H, int64_t W, Size2 k, Size2 s,
                           Size2 pad, bool max);
}  // namespace vkattn::reference
