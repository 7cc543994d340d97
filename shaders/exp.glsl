// e^x in plain arithmetic for x <= 88. lavapipe turns GLSL's exp() into one libm call per lane
// (measured: a third of the fused attention's time); this is a handful of vector FMAs. Cephes'
// expf scheme: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for an exact reduction), e^r by
// a degree-7 polynomial, 2^n built in the exponent bits. Relative error about 2e-7. Special
// values as a softmax needs them: e^NaN is NaN; below about -87.7 (so e^-inf) the result is 0
// (n = -127 leaves the exponent bits 0), which gives a row of -inf scores a sum of 0 and so NaN,
// as PyTorch; above 88 it is e^88 (the softmax's arguments are never positive).
#ifndef VKATTN_EXP_GLSL
#define VKATTN_EXP_GLSL

// e^r for |r| <= ln2 / 2: Cephes' degree-7 polynomial.
float exp_reduced(float r) {
  float p = 1.9875691500e-4;
  p = fma(p, r, 1.3981999507e-3);
  p = fma(p, r, 8.3334519073e-3);
  p = fma(p, r, 4.1665795894e-2);
  p = fma(p, r, 1.6666665459e-1);
  p = fma(p, r, 5.0000001201e-1);
  return fma(p * r, r, r) + 1.0;
}

float exp_fast(float x) {
  const float c = clamp(x, -88.0, 88.0);  // drops a NaN (see the end)
  const float n = floor(fma(c, 1.44269504, 0.5));
  float r = fma(n, -0.693359375, c);
  r = fma(n, 2.12194440e-4, r);
  const float e = exp_reduced(r);
  return isnan(x) ? x : e * intBitsToFloat((int(n) + 127) << 23);
}

// e^x over the whole float32 range, for torch.exp and ONNX Exp (whose arguments may be anything):
// exp_fast's reduction and polynomial, with 2^n applied in two halves so that n up to 128 (x up
// to 88.72) does not overflow the exponent bits and n down to -150 gives denormals or 0. Above
// 88.72283935546875 the result is +inf, as float32's expf; NaN stays NaN.
float exp_full(float x) {
  if (isnan(x)) return x;
  if (x > 88.72283935546875) return uintBitsToFloat(0x7f800000u);
  if (x < -103.972084) return 0.0;
  const int k = int(floor(fma(x, 1.44269504, 0.5)));
  // x - k ln2 in two exact-enough steps: k * 0.693359375 (= k * 355 / 512, computed in integers
  // and so exact), then k times the small rest of ln 2. Written with k as one float in both, the
  // compiler merges the two products into one by a rounded ln 2 (lavapipe does, even with
  // `precise`), which loses up to |x| / 16 ulps.
  float r = x - float(k * 355) * 0.001953125;
  r = fma(float(k), 2.12194440e-4, r);
  const float e = exp_reduced(r);
  const int low = k / 2, high = k - low;  // each within a normal float's exponent
  return e * intBitsToFloat((low + 127) << 23) * intBitsToFloat((high + 127) << 23);
}

#endif
