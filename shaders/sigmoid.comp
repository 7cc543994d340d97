#version 450
#extension GL_GOOGLE_include_directive : require
// y = 1 / (1 + e^-x). Far below zero e^-x overflows to +inf and y is 0, as it should be.
// Bindings: 0 x, 1 y.
#include "elementwise.glsl"

float apply(float v) { return 1.0 / (1.0 + exp(-v)); }
