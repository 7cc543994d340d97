#version 450
#extension GL_GOOGLE_include_directive : require
// 1x1 convolution as one GEMM: Y[b, o, n] = sum_c W[o, c] * X[b, c, n] + bias[o].
// With the query, key and value weights stacked in W, all three projections are one dispatch
// and X is read once. Bindings: 0 W (M, C), 1 X (B, C, N), 2 Y (B, M, N), 3 bias (M).
#define HAS_BIAS
#include "gemm.glsl"
