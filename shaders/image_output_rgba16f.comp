#version 450
#extension GL_GOOGLE_include_directive : require
// image_output.glsl for R16G16B16A16_SFLOAT images: one kernel per storage format qualifier.
#define IMAGE_FORMAT rgba16f
#include "image_output.glsl"
