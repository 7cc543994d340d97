#version 450
#extension GL_GOOGLE_include_directive : require
// image_output.glsl for R32_SFLOAT images: one kernel per storage format qualifier.
#define IMAGE_FORMAT r32f
#include "image_output.glsl"
