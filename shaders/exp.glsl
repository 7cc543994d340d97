// e^x in plain arithmetic for x <= 88. lavapipe turns GLSL's exp() into one libm call per lane
// (measured: a third of the fused attention's time); this is a handful of vector FMAs. Cephes'
// expf scheme: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for an exact reduction), e^r by
// a degree-7 polynomial, 2^n built in the exponent bits. Relative error about 2e-7; below -87
// the result is the smallest normal power instead of an underflow to 0, which no softmax sees.
#ifndef VKATTN_EXP_GLSL
#define VKATTN_EXP_GLSL

float exp_fast(float x) {
  x = clamp(x, -87.0, 88.0);
  const float n = floor(fma(x, 1.44269504, 0.5));
  float r = fma(n, -0.693359375, x);
  r = fma(n, 2.12194440e-4, r);
  float p = 1.9875691500e-4;
  p = fma(p, r, 1.3981999507e-3);
  p = fma(p, r, 8.3334519073e-3);
  p = fma(p, r, 4.1665795894e-2);
  p = fma(p, r, 1.6666665459e-1);
  p = fma(p, r, 5.0000001201e-1);
  const float e = fma(p * r, r, r) + 1.0;
  return e * intBitsToFloat((int(n) + 127) << 23);
}

#endif
