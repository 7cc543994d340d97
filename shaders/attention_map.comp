#version 450
#extension GL_GOOGLE_include_directive : require
// The attention map with the dot-product score (shaders/attention_map.glsl).
#include "attention_map.glsl"
