#version 450
#extension GL_GOOGLE_include_directive : require
// y = max(x, 0), NaN kept (common.glsl). Bindings: 0 x, 1 y.
#include "elementwise.glsl"

float apply(float v) { return relu(v); }
