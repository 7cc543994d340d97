// tanh(x) written out rather than GLSL's tanh(), whose precision the spec leaves to the driver:
// (1 - e^-2|x|) / (1 + e^-2|x|) never overflows, and near zero, where that difference cancels,
// the odd Taylor series to x^9 is exact to float precision (|x| < 0.3). tanh(+-inf) = +-1 and
// NaN stays NaN (exp_fast keeps it).
#ifndef VKATTN_TANH_GLSL
#define VKATTN_TANH_GLSL
#include "exp.glsl"

float tanh_stable(float v) {
  const float a = abs(v);
  if (a < 0.3) {
    const float s = v * v;
    return v * (1.0 + s * (-1.0 / 3.0 + s * (2.0 / 15.0 + s * (-17.0 / 315.0 + s * (62.0 / 2835.0)))));
  }
  const float t = exp_fast(-2.0 * a);
  return sign(v) * (1.0 - t) / (1.0 + t);
}

#endif
