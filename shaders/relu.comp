#version 450
#extension GL_GOOGLE_include_directive : require
// y = max(x, 0). Bindings: 0 x, 1 y.
#include "elementwise.glsl"

float apply(float v) { return max(v, 0.0); }
