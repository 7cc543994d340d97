// IEEE 754 binary16 ("half") conversions: F16 tensors in files, and the fp16 precision's weights.
#pragma once
#include <cstdint>

namespace vkattn {

// Exact: every half is a float.
float half_to_float(uint16_t h);
// Rounded to nearest, ties to even; past the largest half (65504) it is infinity, as a GPU's
// conversion; NaN stays NaN (quiet), with its sign.
uint16_t float_to_half(float f);

}  // namespace vkattn
