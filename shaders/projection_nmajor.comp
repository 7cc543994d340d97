#version 450
#extension GL_GOOGLE_include_directive : require
// 1x1 convolution stored position-major: Y[b, n, o] = sum_c W[o, c] * X[b, c, n] + bias[o], so
// that all channels of one position are contiguous (the fused attention reads keys and values
// a block of positions at a time). Bindings: 0 W (M, C), 1 X (B, C, N), 2 Y (B, N, M), 3 bias (M).
#define HAS_BIAS
#define C_NMAJOR
#include "gemm.glsl"
