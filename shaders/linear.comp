#version 450
#extension GL_GOOGLE_include_directive : require
// Fully connected layer as one GEMM with the batch as rows: Y (B, M) = X (B, F) · W^T + bias[m].
// W (M, F) row-major is W^T read column by column, which is gemm.glsl's B_NMAJOR.
// Bindings: 0 X (B, F), 1 W (M, F), 2 Y (B, M), 3 bias (M).
#define B_NMAJOR
#define BIAS_N
#include "gemm.glsl"
