#version 450
#extension GL_GOOGLE_include_directive : require
// k x k convolution as implicit GEMM: Y[b] (M, OH*OW) = W (M, C*KH*KW) · im2col(X[b]) + bias[m].
// The im2col matrix is never stored; gemm.glsl gathers its tiles straight from the image.
// Bindings: 0 W (M, C, KH, KW), 1 X (B, C, H, W), 2 Y (B, M, OH, OW), 3 bias (M).
#define B_IM2COL
#define HAS_BIAS
#include "gemm.glsl"
