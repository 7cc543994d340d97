#version 450
#extension GL_GOOGLE_include_directive : require
// Fused self-attention with the dot-product score, scale * q.k (shaders/fused_attention.glsl).
#include "fused_attention.glsl"
