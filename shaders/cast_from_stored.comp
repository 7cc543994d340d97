#version 450
#extension GL_GOOGLE_include_directive : require
// A float16_t tensor (Precision::fp16) out to a graph output in float32; exact. Both builds are
// this one (see cast_to_stored.comp). Bindings: 0 x, 1 y (float).
#define VKATTN_FP16
#define OUT_T float
#define OUT4_T vec4
#include "elementwise.glsl"

float apply(float v) { return v; }
