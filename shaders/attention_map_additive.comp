#version 450
#extension GL_GOOGLE_include_directive : require
// The attention map with the additive score (shaders/attention_map.glsl).
#define ADDITIVE 1
#include "attention_map.glsl"
