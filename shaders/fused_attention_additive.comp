#version 450
#extension GL_GOOGLE_include_directive : require
// Fused self-attention with the additive score, scale * sum_c u_c tanh(q_c + k_c)
// (shaders/fused_attention.glsl); binding 4 holds u.
#define ADDITIVE 1
#include "fused_attention.glsl"
