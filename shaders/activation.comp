#version 450
#extension GL_GOOGLE_include_directive : require
// One activation node: FUNCTION (specialization constant 1) of activations.glsl with its
// parameters A and B (2, 3) on every element.
// Bindings: 0 x, 1 y (elementwise.glsl).
#include "elementwise.glsl"
#include "activations.glsl"

layout(constant_id = 1) const uint FUNCTION = 0;
layout(constant_id = 2) const float A = 0.0;
layout(constant_id = 3) const float B = 0.0;

float apply(float v) { return activate(v, FUNCTION, A, B); }
