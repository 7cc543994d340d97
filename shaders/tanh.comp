#version 450
#extension GL_GOOGLE_include_directive : require
// y = tanh(x) (shaders/tanh.glsl). Bindings: 0 x, 1 y.
#include "elementwise.glsl"
#include "tanh.glsl"

float apply(float v) { return tanh_stable(v); }
