#version 450
#extension GL_GOOGLE_include_directive : require
// y = x for x >= 0, slope * x below (torch.nn.LeakyReLU). Bindings: 0 x, 1 y.
#include "elementwise.glsl"

layout(constant_id = 1) const float SLOPE = 0.01;

float apply(float v) { return v >= 0.0 ? v : SLOPE * v; }
