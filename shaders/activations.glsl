#ifndef VKATTN_ACTIVATIONS_GLSL
#define VKATTN_ACTIVATIONS_GLSL
// The elementwise functions an activation node computes (activation.comp) and a kernel may apply
// as it stores (epilogue.glsl), so both give the same numbers. `f` is the Activation function of
// ops/op.h and always a specialization constant, so each pipeline keeps one branch. As PyTorch
// computes them in float32:
//   0 identity
//   1 relu         max(x, 0), NaN stays
//   2 clamp        min(max(x, A), B) (torch.clamp, F.hardtanh, F.relu6); A > B gives B; NaN stays
//   3 hardswish    x * clamp(x + 3, 0, 6) / 6 (-inf gives NaN: -inf * 0, as PyTorch)
//   4 hardsigmoid  clamp(x + 3, 0, 6) / 6
//   5 silu         x * sigmoid(x) (-inf gives NaN, as PyTorch's x / (1 + e^-x))
//   6 gelu         x * Phi(x), Phi the normal CDF through erf/erfc (see phi below)
//   7 gelu_tanh    x / 2 * (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), as x sigmoid(2 ...)
//   8 elu          x for x > 0, A * (e^x - 1) below
//   9 leaky_relu   x for x >= 0, A * x below
//  10 sigmoid      1 / (1 + e^-x)
//  11 tanh         tanh(x) (tanh.glsl)
//  12 exp          e^x over float32's whole range (exp_full)
//  13 log          ln x: NaN below 0, -inf at 0 (log_positive)
//  14 abs, 15 floor, 16 ceil, 17 round (half to even, as torch.round and ONNX Round)
//  18 erf          erf(x) (erf_small, erfc_large)
//  19 softsign     x / (1 + |x|) (+-inf gives NaN, as PyTorch)
//  20 softplus     ln(1 + e^(A x)) / A, or x where A x > B (A beta, B threshold)
//  21 mish         x tanh(softplus(x))
#include "common.glsl"
#include "exp.glsl"
#include "tanh.glsl"

// min(max(v, lo), hi) that keeps NaN (GLSL's min and max may drop it; see max_nan).
float clamp_nan(float v, float lo, float hi) { return isnan(v) ? v : min(max(v, lo), hi); }

// erf(z) for |z| < 1: its Taylor series 2/sqrt(pi) sum_n (-1)^n z^(2n+1) / (n! (2n+1)) to n = 10
// (the next term is below 1.3e-9).
float erf_small(float z) {
  const float s = z * z;
  float p = 1.4807192815879218e-08;
  p = fma(p, s, -1.6365844691234924e-07);
  p = fma(p, s, 1.6462114365889246e-06);
  p = fma(p, s, -1.492565035840625e-05);
  p = fma(p, s, 0.00012055332981789664);
  p = fma(p, s, -0.0008548327023450852);
  p = fma(p, s, 0.005223977625442188);
  p = fma(p, s, -0.026866170645131252);
  p = fma(p, s, 0.11283791670955126);
  p = fma(p, s, -0.37612638903183754);
  p = fma(p, s, 1.1283791670955126);
  return z * p;
}

// erfc(z) for z >= 1: Numerical Recipes' Chebyshev fit t e^(-z^2 + P(t)), t = 1 / (1 + z/2)
// (relative error below 1.2e-7). 0 for z past about 9.3 and for +inf (exp_fast underflows).
float erfc_large(float z) {
  const float t = 1.0 / fma(0.5, z, 1.0);
  float p = 0.17087277;
  p = fma(p, t, -0.82215223);
  p = fma(p, t, 1.48851587);
  p = fma(p, t, -1.13520398);
  p = fma(p, t, 0.27886807);
  p = fma(p, t, -0.18628806);
  p = fma(p, t, 0.09678418);
  p = fma(p, t, 0.37409196);
  p = fma(p, t, 1.00002368);
  p = fma(p, t, -1.26551223);
  return t * exp_fast(p - z * z);
}

// The normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2. GLSL has no erf; the two pieces above give
// erf to within 1.5e-7 (absolute; measured over every float32 z in [0, 10] with float32
// arithmetic), and for x < -sqrt 2 Phi comes from erfc directly, so that its small values keep
// their relative precision. Phi(-inf) = 0 and Phi(+inf) = 1; NaN stays NaN.
float phi(float x) {
  const float z = x * 0.70710678118654752;
  const float a = abs(z);
  if (a < 1.0) return 0.5 + 0.5 * erf_small(z);
  const float c = 0.5 * erfc_large(a);
  return z > 0.0 ? 1.0 - c : c;
}

// e^v - 1 for v <= 0 without the cancellation near 0: the Taylor series to v^8 above -0.5
// (error below 6e-9), exp_fast(v) - 1 below. -inf gives -1; NaN stays NaN.
float expm1_negative(float v) {
  if (v > -0.5) {
    float p = 1.0 / 40320.0;
    p = fma(p, v, 1.0 / 5040.0);
    p = fma(p, v, 1.0 / 720.0);
    p = fma(p, v, 1.0 / 120.0);
    p = fma(p, v, 1.0 / 24.0);
    p = fma(p, v, 1.0 / 6.0);
    p = fma(p, v, 0.5);
    p = fma(p, v, 1.0);
    return p * v;
  }
  return exp_fast(v) - 1.0;
}

// ln(1 + m) + e ln 2 for m in [sqrt(1/2) - 1, sqrt 2 - 1): Cephes' logf polynomial, relative
// error about 1e-7.
float log_reduced(float m, int e) {
  const float z = m * m;
  float p = 7.0376836292e-2;
  p = fma(p, m, -1.1514610310e-1);
  p = fma(p, m, 1.1676998740e-1);
  p = fma(p, m, -1.2420140846e-1);
  p = fma(p, m, 1.4249322787e-1);
  p = fma(p, m, -1.6668057665e-1);
  p = fma(p, m, 2.0000714765e-1);
  p = fma(p, m, -2.4999993993e-1);
  p = fma(p, m, 3.3333331174e-1);
  float y = m * z * p;
  y = fma(float(e), -2.12194440e-4, y);
  y = fma(-0.5, z, y);
  return fma(float(e), 0.693359375, m + y);
}

// ln x for x > 0 without the driver's log(), whose precision Vulkan leaves loose near 1 (an
// absolute 2^-21 there): x = m 2^e with m in [sqrt(1/2), sqrt 2), then log_reduced. NaN below 0
// and for NaN, -inf at 0 (and for denormals a device flushes), +inf at +inf.
float log_positive(float x) {
  if (isnan(x) || x < 0.0) return uintBitsToFloat(0x7fc00000u);
  if (x == 0.0) return uintBitsToFloat(0xff800000u);
  if (isinf(x)) return x;
  int e;
  float m = frexp(x, e);  // m in [0.5, 1)
  if (m < 0.70710678118654752) {
    --e;
    m = m + m;
  }
  return log_reduced(m - 1.0, e);
}

// ln(1 + u) for u >= 0 keeping u's relative precision when it is tiny: the polynomial on u
// itself below sqrt 2 - 1 (1 + u would round; the compiler also folds the usual (1 + u) - 1
// correction back to u), ln(1 + u) above. +inf stays, NaN stays NaN.
float log1p_positive(float u) {
  return u < 0.41421356237309505 ? log_reduced(u, 0) : log_positive(1.0 + u);
}

// erf(z) from the two pieces phi uses: the series below 1, 1 - erfc above (+-1 at +-inf).
float erf_full(float z) {
  if (abs(z) < 1.0) return erf_small(z);
  const float c = erfc_large(abs(z));
  return z > 0.0 ? 1.0 - c : c - 1.0;  // NaN stays NaN
}

// PyTorch's softplus: x where beta x passes the threshold, else ln(1 + e^(beta x)) / beta.
float softplus(float v, float beta, float threshold) {
  const float s = beta * v;
  return s > threshold ? v : log1p_positive(exp_full(s)) / beta;
}

float activate(float v, uint f, float A, float B) {
  if (f == 1) return relu(v);
  if (f == 2) return clamp_nan(v, A, B);
  if (f == 3) return v * clamp(v + 3.0, 0.0, 6.0) / 6.0;  // v carries a NaN through
  if (f == 4) return clamp_nan(v + 3.0, 0.0, 6.0) / 6.0;
  if (f == 5) {
    // sigmoid(v) from e^-|v|, which never overflows: 1 / (1 + e) at v >= 0, e / (1 + e) below.
    const float e = exp_fast(-abs(v));
    return v * ((v >= 0.0 ? 1.0 : e) / (1.0 + e));
  }
  if (f == 6) return v * phi(v);
  if (f == 7) {
    // (1 + tanh(u)) / 2 = sigmoid(2u), from e^-2|u| as for silu: 1 + tanh(u) would cancel to 0
    // for u below about -9, where the result still has float32 precision.
    const float u2 = 1.5957691216057308 * (v + 0.044715 * v * v * v);
    const float e = exp_fast(-abs(u2));
    return v * ((u2 >= 0.0 ? 1.0 : e) / (1.0 + e));
  }
  if (f == 8) return v > 0.0 ? v : A * expm1_negative(v);
  if (f == 9) return v >= 0.0 ? v : A * v;
  if (f == 10) return 1.0 / (1.0 + exp(-v));
  if (f == 11) return tanh_stable(v);
  if (f == 12) return exp_full(v);
  if (f == 13) return log_positive(v);
  if (f == 14) return abs(v);
  if (f == 15) return floor(v);
  if (f == 16) return ceil(v);
  if (f == 17) return roundEven(v);
  if (f == 18) return erf_full(v);
  if (f == 19) return v / (1.0 + abs(v));
  if (f == 20) return softplus(v, A, B);
  if (f == 21) return v * tanh_stable(softplus(v, 1.0, 20.0));
  return v;
}

#endif
