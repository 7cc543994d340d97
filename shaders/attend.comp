#version 450
#extension GL_GOOGLE_include_directive : require
// Attention output O[b, c, i] = sum_j V[b, c, j] * A[b, i, j]  (V A^T, no transpose stored).
// B = A read n-major (query position outer). Bindings: 0 V (B, Cv, N), 1 A (B, N, N), 2 O (B, Cv, N).
#define B_NMAJOR
#include "gemm.glsl"
