#version 450
#extension GL_GOOGLE_include_directive : require
// image_output.glsl for R8G8B8A8_UNORM and R8G8B8A8_SRGB images (written through a UNORM view):
// one kernel per storage format qualifier.
#define IMAGE_FORMAT rgba8
#include "image_output.glsl"
