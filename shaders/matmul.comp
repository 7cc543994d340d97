#version 450
#extension GL_GOOGLE_include_directive : require
// torch.matmul's batched C (M, N) = A (M, K) · B (K, N), all row-major; the host lays the
// broadcast leading dimensions out as batch strides and operand offsets.
// Bindings: 0 A, 1 B, 2 C.
#include "gemm.glsl"
