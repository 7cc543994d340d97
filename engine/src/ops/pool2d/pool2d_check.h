// The pools' float64 reference, for the checks of ops that fold a pool in.
#pragma once
#include <cstdint>
#include <vector>

#include "vkattn/ops.h"

namespace vkattn::reference {
// Windows as torch.nn.MaxPool2d / AvgPool2d take them.
struct PoolWindows {
  Size2 k, s, pad, dilation{1, 1};
  bool ceil_mode = false, count_include_pad = true;
  int64_t divisor_override = 0;  // 0: none
};
// Output size along one axis, PyTorch's pooling_output_shape.
int64_t pooled_size(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t dilation, bool ceil_mode);
// Max (padding never wins; -inf over no element) or average over each window of `planes` planes
// of H x W, as PyTorch's CPU kernels define them.
std::vector<double> pool2d(const std::vector<double>& x, int64_t planes, int64_t H, int64_t W, const PoolWindows& w,
                           bool max);
inline std::vector<double> pool2d(const std::vector<double>& x, int64_t planes, int64_t H, int64_t W, Size2 k, Size2 s,
                                  Size2 pad, bool max) {
  return pool2d(x, planes, H, W, PoolWindows{k, s, pad}, max);
}
}  // namespace vkattn::reference
