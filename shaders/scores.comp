#version 450
#extension GL_GOOGLE_include_directive : require
// Attention scores S[b, i, j] = scale * sum_c Q[b, c, i] * K[b, c, j]  (Q^T K, no transpose stored).
// A = Q read k-major (channels outer), B = K row-major. Bindings: 0 Q, 1 K, 2 S (B, N, N).
#define A_KMAJOR
#include "gemm.glsl"
