#version 450
#extension GL_GOOGLE_include_directive : require
// A graph input, float32, into float16_t (Precision::fp16), rounded as the device converts.
// Both builds are this one: a float build would be a plain copy, the same SPIR-V as flatten's,
// and the plan finds a kernel's fp16 build by its float build's words. Bindings: 0 x (float), 1 y.
#define VKATTN_FP16
#define IN_T float
#define IN4_T vec4
#include "elementwise.glsl"

float apply(float v) { return v; }
